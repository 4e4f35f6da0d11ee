package dnsserver

import "github.com/miekg/dns"

// maxLookups bounds a CNAME/DNAME chain: BIND 9.18 does the first lookup
// and at most 11 restarts, then answers SERVFAIL with what it collected.
const maxLookups = 12

// query is what shapes an answer besides the name.
type query struct {
	qtype uint16
	do    bool // DNSSEC OK: add signatures and denial of existence
	// noAuth leaves the NS RRset out of positive answers: BIND's default
	// "minimal-responses no-auth-recursive" does this for RD=1 queries.
	noAuth bool
	// minimal leaves out everything not required (BIND does this for an
	// EDNS UDP buffer of 512 bytes or less).
	minimal bool
	// minimalAny answers ANY with one RRset (RFC 8482; over UDP when
	// Options.MinimalANY is set).
	minimalAny bool
}

// answer is the reply being built for one question.
type answer struct {
	q     query
	snap  *snapshot
	zone  *zoneIndex
	rcode int
	aa    bool
	ans   []dns.RR
	auth  []dns.RR
	extra []dns.RR
	hasNS bool // the apex NS RRset is in the answer section
	// sets are the RRsets of the answer section that may call for
	// additional data, with the owner they were answered under.
	sets []answered
	seen []string // names whose CNAME was followed, to stop loops
	// simple is set when the first lookup ended the answer in NXDOMAIN or
	// in a wildcard's data or NODATA; ce is then the closest encloser.
	simple bool
	ce     string
}

// resolve fills a with the answer to qname (lower-case) from zone ix.
func (a *answer) resolve(ix *zoneIndex, qname string) {
	a.zone, a.aa = ix, true
	for step := 1; ; step++ {
		r := ix.lookup(qname, a.q.qtype)
		if step == 1 {
			switch {
			case r.kind == kindNXDomain:
				a.simple, a.ce = true, r.node.name
			case (r.kind == kindSuccess || r.kind == kindNoData) && r.wild:
				a.simple, a.ce = true, r.ce.name
			}
		}
		switch r.kind {
		case kindSuccess:
			a.success(qname, r)
			return
		case kindNoData:
			a.noData(qname, r)
			return
		case kindNXDomain:
			a.nxDomain(qname, r)
			return
		case kindDelegation:
			a.aa = step > 1
			a.referral(r.node)
			return
		}
		target, ok := a.alias(qname, r)
		if !ok {
			return
		}
		if r.kind == kindDNAME && a.q.qtype == dns.TypeANY {
			a.addNS() // BIND does not restart an ANY query after a DNAME
			return
		}
		if step == maxLookups || target == qname || a.visited(target) {
			a.rcode = dns.RcodeServerFailure
			return
		}
		if f := a.snap.find(target, a.q.qtype); f == nil || f.packedZone != ix.packed {
			return // BIND follows a chain only inside the zone it started in
		}
		a.seen = append(a.seen, qname)
		qname = target
	}
}

// alias adds the CNAME (or the DNAME and the CNAME it synthesizes) and
// returns the name to continue with.
func (a *answer) alias(qname string, r result) (string, bool) {
	if r.kind == kindDNAME {
		return a.dname(qname, r.node)
	}
	s := r.node.get(dns.TypeCNAME)
	a.addSet(s, qname, r.wild)
	if r.wild && a.q.do {
		a.auth = append(a.auth, a.zone.wildcardProof(qname, r.ce)...)
	}
	return canon(s.rrs[0].(*dns.CNAME).Target), true
}

// dname adds the DNAME RRset and the CNAME it implies (RFC 6672).
func (a *answer) dname(qname string, dn *node) (string, bool) {
	s := dn.get(dns.TypeDNAME)
	d := s.rrs[0].(*dns.DNAME)
	a.ans = append(a.ans, s.withSigs(a.q.do)...)
	prefix := qname[:len(qname)-len(dn.name)]
	target := prefix + d.Target
	if d.Target == "." {
		target = prefix
	}
	if _, ok := dns.IsDomainName(target); !ok || len(target) > 254 {
		a.rcode = dns.RcodeYXDomain
		return "", false
	}
	a.ans = append(a.ans, &dns.CNAME{
		Hdr:    dns.RR_Header{Name: qname, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: d.Hdr.Ttl},
		Target: target,
	})
	return canon(target), true
}

func (a *answer) visited(name string) bool {
	for _, s := range a.seen {
		if s == name {
			return true
		}
	}
	return false
}

// addSet appends an RRset to the answer section, renamed to qname when it
// comes from a wildcard.
func (a *answer) addSet(s *rrset, qname string, wild bool) {
	rrs := s.withSigs(a.q.do)
	if wild {
		rrs = synthesize(rrs, qname)
	}
	a.ans = append(a.ans, rrs...)
	if s.typ == dns.TypeNS && s == a.zone.ns {
		a.hasNS = true
	}
	a.sets = append(a.sets, answered{set: s, owner: qname})
}

// answered is an RRset placed in the answer section.
type answered struct {
	set   *rrset
	owner string
}

// synthesize copies wildcard records with the query name as owner.
func synthesize(rrs []dns.RR, qname string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = qname
		out[i] = c
	}
	return out
}
