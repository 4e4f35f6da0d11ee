package dnsserver

import (
	"sort"

	"github.com/miekg/dns"
)

// ixfrDiff is one change of a zone, as IXFR sends it (RFC 1995): the SOA
// before, the records removed, the SOA after, the records added.
type ixfrDiff struct {
	from, to *dns.SOA
	del, add []dns.RR
}

// apexSOA returns the zone's SOA, or nil.
func apexSOA(z *Zone) *dns.SOA {
	for _, rr := range z.RRs {
		if soa, ok := rr.(*dns.SOA); ok && canon(soa.Hdr.Name) == canonicalOrigin(z.Origin) {
			return soa
		}
	}
	return nil
}

// serialNewer reports whether serial a is newer than b (RFC 1982).
func serialNewer(a, b uint32) bool { return a != b && int32(a-b) > 0 }

// record keeps the change from old to cur for IXFR. A change whose serial
// does not move forward breaks the chain: the zone's journal restarts and
// older clients get the whole zone.
func (x *xfr) record(origin string, old, cur *Zone) {
	if x.opt.Journal < 0 {
		return
	}
	x.jmu.Lock()
	defer x.jmu.Unlock()
	if old == nil {
		delete(x.journal, origin)
		return
	}
	from, to := apexSOA(old), apexSOA(cur)
	if from == nil || to == nil || !serialNewer(to.Serial, from.Serial) {
		delete(x.journal, origin)
		return
	}
	d := ixfrDiff{from: from, to: to}
	d.del, d.add = diffRRs(old.RRs, cur.RRs)
	j := append(x.journal[origin], d)
	if len(j) > x.opt.Journal {
		j = append([]ixfrDiff(nil), j[len(j)-x.opt.Journal:]...)
	}
	x.journal[origin] = j
}

// forget drops the journal of a zone no longer served.
func (x *xfr) forget(origin string) {
	x.jmu.Lock()
	delete(x.journal, origin)
	x.jmu.Unlock()
}

// diffRRs returns the records of old missing from cur and those of cur
// missing from old, SOAs left out, in a stable order.
func diffRRs(old, cur []dns.RR) (del, add []dns.RR) {
	key := func(rr dns.RR) string { return rr.String() }
	have := make(map[string]dns.RR, len(old))
	for _, rr := range old {
		if rr.Header().Rrtype != dns.TypeSOA {
			have[key(rr)] = rr
		}
	}
	for _, rr := range cur {
		if rr.Header().Rrtype == dns.TypeSOA {
			continue
		}
		k := key(rr)
		if _, ok := have[k]; ok {
			delete(have, k)
			continue
		}
		add = append(add, rr)
	}
	for _, rr := range have {
		del = append(del, rr)
	}
	sort.Slice(del, func(i, j int) bool { return key(del[i]) < key(del[j]) })
	return del, add
}

// ixfrMessages answers an IXFR: the current SOA alone when the client is
// up to date, the changes since its serial when the journal holds them
// all, else the whole zone in IXFR form (as RFC 1995 allows).
func (x *xfr) ixfrMessages(ix *zoneIndex, soa *dns.SOA, r *dns.Msg) [][]dns.RR {
	var have *dns.SOA
	for _, rr := range r.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			have = s
		}
	}
	if have == nil {
		return axfrMessages(ix, soa)
	}
	if !serialNewer(soa.Serial, have.Serial) {
		return [][]dns.RR{{soa}}
	}
	x.jmu.Lock()
	j := x.journal[ix.origin]
	x.jmu.Unlock()
	start := -1
	for i, d := range j {
		if d.from.Serial == have.Serial {
			start = i
			break
		}
	}
	if start < 0 || j[len(j)-1].to.Serial != soa.Serial {
		return axfrMessages(ix, soa)
	}
	out := []dns.RR{soa}
	for _, d := range j[start:] {
		out = append(out, d.from)
		out = append(out, d.del...)
		out = append(out, d.to)
		out = append(out, d.add...)
	}
	out = append(out, soa)
	return chunk(out)
}
