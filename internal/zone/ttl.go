package zone

import "github.com/miekg/dns"

// applyTTLs gives every record the TTL BIND gives it, whatever the zone
// parser chose (it is run with a default TTL of 0 so that it never stops
// at a record without one):
//
//   - a TTL written on the record is used;
//   - else the $TTL in force;
//   - else, with no $TTL yet, the last TTL written on a record (RFC 1035),
//     with a warning;
//   - else, on the SOA, the SOA's MINIMUM, which then acts as $TTL, with a
//     warning;
//   - else the record has no TTL and the zone is refused, as named does.
func (p *parser) applyTTLs(in []parsed) {
	byEntry := recordsByEntry(in, len(p.entries))
	var t ttlState
	// Without a readable SOA the zone is refused for that already; a
	// missing TTL there would only be noise.
	t.quiet = p.brokenSOA || !hasSOA(in)
	for ei := range p.entries {
		e := &p.entries[ei]
		if e.directive() == "$TTL" && !e.indented {
			if v, ok := ttlValue(e.arg(0)); ok {
				t.def, t.defKnown = v, true
			}
			continue
		}
		idx := byEntry[ei]
		if len(idx) == 0 {
			continue
		}
		sh, ok := e.shape()
		if !ok {
			continue
		}
		ttl, ok := p.entryTTL(&t, sh, e, in[idx[0]].rr)
		if !ok {
			continue
		}
		for _, i := range idx {
			in[i].rr.Header().Ttl = ttl
		}
	}
}

// recordsByEntry lists, for each of n entries, the indexes in in of the
// records read from it, in order: a few allocations for the whole zone
// rather than a map entry and a slice per record.
func recordsByEntry(in []parsed, n int) [][]int {
	off := make([]int, n+1)
	for _, x := range in {
		if x.entry >= 0 && x.entry < n {
			off[x.entry+1]++
		}
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	all := make([]int, off[n])
	out := make([][]int, n)
	for i := range out {
		out[i] = all[off[i]:off[i]:off[i+1]]
	}
	for i, x := range in {
		if x.entry >= 0 && x.entry < n {
			out[x.entry] = append(out[x.entry], i)
		}
	}
	return out
}

// ttlState is what decides the TTL of a record written without one.
type ttlState struct {
	def, prev           uint32
	defKnown, prevKnown bool
	warned1035          bool
	quiet               bool // do not report records without a TTL
}

func hasSOA(in []parsed) bool {
	for _, x := range in {
		if x.rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}

func (p *parser) entryTTL(t *ttlState, sh shape, e *entry, rr dns.RR) (uint32, bool) {
	switch {
	case sh.hasTTL:
		t.prev, t.prevKnown = sh.ttl, true
		return sh.ttl, true
	case t.defKnown:
		return t.def, true
	case t.prevKnown:
		if !t.warned1035 {
			p.warnings.add(e.first, "no TTL and no $TTL: using the TTL of the record before (RFC 1035), as BIND does")
			t.warned1035 = true
		}
		return t.prev, true
	}
	if soa, ok := rr.(*dns.SOA); ok {
		t.def, t.defKnown = soa.Minttl, true
		p.warnings.add(e.first, "no TTL and no $TTL: using the SOA MINIMUM ("+utoa(soa.Minttl)+") as BIND does")
		return soa.Minttl, true
	}
	if t.quiet {
		return 0, true
	}
	p.problems.add(e.first, "no TTL, and no $TTL or earlier TTL to use: add a $TTL line (BIND refuses the zone too)")
	return 0, false
}
