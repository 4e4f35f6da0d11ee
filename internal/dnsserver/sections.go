package dnsserver

import (
	"slices"

	"github.com/miekg/dns"
)

// success answers from a node that owns the type asked for.
func (a *answer) success(qname string, r result) {
	n := r.node
	switch a.q.qtype {
	case dns.TypeANY:
		a.any(qname, r)
	case dns.TypeRRSIG:
		rrs := n.allSigs
		if r.wild {
			rrs = synthesize(rrs, qname)
		}
		a.ans = append(a.ans, rrs...)
	default:
		a.addSet(n.get(a.q.qtype), qname, r.wild)
	}
	if r.wild && a.q.do {
		a.auth = append(a.auth, a.zone.wildcardProof(qname, r.ce)...)
	}
	a.addNS()
	if a.q.qtype != dns.TypeANY && !a.q.minimal {
		a.additional()
	}
}

// any answers every RRset of the name, signatures included (BIND 9.18
// has minimal-any off by default, so the answer is not minimized).
func (a *answer) any(qname string, r result) {
	if a.q.minimalAny {
		a.minimalAny(qname, r)
		return
	}
	for _, s := range r.node.sets {
		if s.typ == dns.TypeDNSKEY && !a.zone.secure {
			continue // BIND leaves the keys of an unsigned zone out of ANY
		}
		a.addSet(s, qname, r.wild)
	}
	if a.q.do {
		return // addSet already added the signatures
	}
	sigs := r.node.allSigs
	if r.wild {
		sigs = synthesize(sigs, qname)
	}
	a.ans = append(a.ans, sigs...)
}

// noAuthTypes are answered without the NS RRset in authority by BIND.
func noAuthType(t uint16) bool {
	switch t {
	case dns.TypeDS, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY:
		return true
	}
	return false
}

// addNS puts the apex NS RRset in the authority section of a positive
// answer, as BIND's default minimal-responses setting does.
func (a *answer) addNS() {
	if a.q.noAuth || a.q.minimal || a.hasNS || noAuthType(a.q.qtype) || a.zone.ns == nil {
		return
	}
	a.auth = append(a.auth, a.zone.ns.withSigs(a.q.do)...)
}

// noData answers a name that exists without the type.
func (a *answer) noData(qname string, r result) {
	a.negative(false)
	if a.q.do {
		a.auth = append(a.auth, a.zone.noDataProof(qname, r)...)
	}
}

// nxDomain answers a name that does not exist.
func (a *answer) nxDomain(qname string, r result) {
	a.rcode = dns.RcodeNameError
	a.negative(a.q.qtype == dns.TypeSOA)
	if a.q.do {
		a.auth = append(a.auth, a.zone.nxProof(qname, r.node)...)
	}
}

// negative adds the SOA with its negative-caching TTL, or with TTL 0 when
// zero is set (BIND's zero-no-soa-ttl, on by default, for an NXDOMAIN
// answer to an SOA query).
func (a *answer) negative(zero bool) {
	soa, sigs := a.zone.negSOA, a.zone.negSOASigs
	if zero {
		soa, sigs = a.zone.zeroSOA, a.zone.zeroSOASigs
	}
	a.auth = append(a.auth, soa...)
	if a.q.do {
		a.auth = append(a.auth, sigs...)
	}
}

// referral answers with the NS RRset of the cut, the DS RRset or the proof
// that there is none, and the glue.
func (a *answer) referral(cut *node) {
	ns := cut.get(dns.TypeNS)
	a.auth = append(a.auth, ns.rrs...)
	if a.q.do && a.zone.secure {
		if ds := cut.get(dns.TypeDS); ds != nil {
			a.auth = append(a.auth, ds.withSigs(true)...)
		} else {
			a.auth = append(a.auth, a.zone.noDSProof(cut)...)
		}
	}
	for _, rr := range ns.rrs {
		a.addAddresses(canon(rr.(*dns.NS).Ns), true)
	}
}

// maxAdditional is the largest RRset whose targets get additional data:
// BIND 9.18 skips additional processing for bigger ones.
const maxAdditional = 13

// additional adds the addresses of the names that the answer and the
// authority NS RRset point at, from this zone's authoritative data.
func (a *answer) additional() {
	for _, s := range a.sets {
		if len(s.set.rrs) > maxAdditional {
			continue
		}
		for _, rr := range s.set.rrs {
			a.additionalFor(rr, s.owner)
		}
	}
	if a.hasNS || a.zone.ns == nil || len(a.zone.ns.rrs) > maxAdditional || !slices.Contains(a.auth, a.zone.ns.rrs[0]) {
		return
	}
	for _, rr := range a.zone.ns.rrs {
		a.addAddresses(canon(rr.(*dns.NS).Ns), false)
	}
}

// additionalFor adds what one answer record asks for; owner is the name
// the record was answered under.
func (a *answer) additionalFor(rr dns.RR, owner string) {
	switch r := rr.(type) {
	case *dns.NS:
		a.addAddresses(canon(r.Ns), false)
	case *dns.MX:
		a.addAddresses(canon(r.Mx), false)
	case *dns.SRV:
		a.addAddresses(canon(r.Target), false)
	case *dns.AFSDB:
		a.addAddresses(canon(r.Hostname), false)
	case *dns.RT:
		a.addAddresses(canon(r.Host), false)
	case *dns.KX:
		a.addAddresses(canon(r.Exchanger), false)
	case *dns.SVCB:
		a.svcb(r.Priority, r.Target, owner)
	case *dns.HTTPS:
		a.svcb(r.Priority, r.Target, owner)
	case *dns.NAPTR:
		a.naptr(r)
	}
}

// svcb adds the addresses of a service's target; "." in service mode
// means the owner itself (RFC 9460 section 2.5.2).
func (a *answer) svcb(priority uint16, target, owner string) {
	if target == "." {
		if priority == 0 {
			return
		}
		target = owner
	}
	a.addAddresses(canon(target), false)
}

// naptr follows a terminal NAPTR: "S" flags name an SRV RRset, "A" flags
// an address.
func (a *answer) naptr(r *dns.NAPTR) {
	target := canon(r.Replacement)
	for i := 0; i < len(r.Flags); i++ {
		switch r.Flags[i] {
		case 'S', 's':
			a.addExtraType(target, dns.TypeSRV, false)
		case 'A', 'a':
			a.addAddresses(target, false)
		}
	}
}

// addAddresses adds the A and AAAA RRsets of name. glue selects data below
// a zone cut (for referrals) instead of authoritative data.
func (a *answer) addAddresses(name string, glue bool) {
	a.addExtraType(name, dns.TypeA, glue)
	a.addExtraType(name, dns.TypeAAAA, glue)
}

// addExtraType adds the RRset name/t to the additional section unless the
// message already holds it.
func (a *answer) addExtraType(name string, t uint16, glue bool) {
	n, wild := a.zone.additionalNode(name, glue)
	if n == nil {
		return
	}
	s := n.get(t)
	if s == nil || a.present(name, t) {
		return
	}
	rrs := s.withSigs(a.q.do && !glue)
	if wild {
		rrs = synthesize(rrs, name)
	}
	a.extra = append(a.extra, rrs...)
}

// present reports whether name/t is already in the answer or additional
// section.
func (a *answer) present(name string, t uint16) bool {
	for _, sec := range [2][]dns.RR{a.ans, a.extra} {
		for _, rr := range sec {
			h := rr.Header()
			if h.Rrtype == t && canon(h.Name) == name {
				return true
			}
		}
	}
	return false
}

// additionalNode finds the node holding additional data for name: glue
// below a cut, or authoritative data (possibly from a wildcard).
func (ix *zoneIndex) additionalNode(name string, glue bool) (*node, bool) {
	if n, ok := ix.nodes[name]; ok {
		if (n.cut != nil) != glue || n.dname != nil {
			return nil, false
		}
		return n, false
	}
	if glue || !isBelow(name, ix.origin) {
		return nil, false
	}
	ce := ix.closestEncloser(name)
	if ce.cut != nil || ce.dname != nil || ce.wild == nil {
		return nil, false
	}
	return ce.wild, true
}

// minimalAny answers ANY with one RRset of the name (RFC 8482 section
// 4.1), with its signatures when DO is set; a name whose only RRsets are
// left out gets the synthesized HINFO "RFC8482" "" (section 4.2).
func (a *answer) minimalAny(qname string, r result) {
	for _, s := range r.node.sets {
		if s.typ == dns.TypeDNSKEY && !a.zone.secure {
			continue
		}
		a.addSet(s, qname, r.wild)
		return
	}
	a.ans = append(a.ans, &dns.HINFO{Hdr: dns.RR_Header{Name: qname, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: 3600}, Cpu: "RFC8482"})
}
