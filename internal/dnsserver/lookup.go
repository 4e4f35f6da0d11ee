package dnsserver

import "github.com/miekg/dns"

// kind is what a lookup in one zone found (the result kinds of CoreDNS's
// file plugin, plus the two aliases).
type kind uint8

const (
	kindSuccess    kind = iota // node owns the type (or ANY, RRSIG)
	kindCNAME                  // node owns a CNAME to follow
	kindDNAME                  // an ancestor owns a DNAME
	kindNoData                 // the name exists without the type
	kindNXDomain               // no such name and no wildcard
	kindDelegation             // the name is at or below a zone cut
)

// result is the outcome of one lookup. node is the name that answers:
// the owner (or wildcard) for data, the cut for a delegation, the DNAME
// owner, or the closest encloser for NXDOMAIN. wild marks data
// synthesized from a wildcard; ce is then the closest encloser.
type result struct {
	kind kind
	node *node
	ce   *node
	wild bool
}

// lookup finds qname (lower-case, inside the zone) for qtype.
func (ix *zoneIndex) lookup(qname string, qtype uint16) result {
	if n, ok := ix.nodes[qname]; ok {
		if r, stop := ix.above(n, n.dname, qtype); stop {
			return r
		}
		return exact(n, qtype, false, nil)
	}
	ce := ix.closestEncloser(qname)
	dn := ce.dname
	if dn == nil && ce.get(dns.TypeDNAME) != nil {
		dn = ce
	}
	if r, stop := ix.above(ce, dn, dns.TypeNone); stop {
		return r
	}
	if ce.wild != nil {
		return exact(ce.wild, qtype, true, ce)
	}
	return result{kind: kindNXDomain, node: ce}
}

// above checks the delegation and DNAME that sit over n; whichever is
// closer to the apex wins, as a top-down walk would find it. A DS or NSEC
// query for the cut itself is answered by the parent side.
func (ix *zoneIndex) above(n, dn *node, qtype uint16) (result, bool) {
	cut := n.cut
	if cut == n && (qtype == dns.TypeDS || qtype == dns.TypeNSEC && n.get(dns.TypeNSEC) != nil) {
		cut = nil // parent-side data at the cut, answered authoritatively
	}
	switch {
	case cut != nil && (dn == nil || len(cut.name) >= len(dn.name)):
		return result{kind: kindDelegation, node: cut}, true
	case dn != nil:
		return result{kind: kindDNAME, node: dn}, true
	}
	return result{}, false
}

// closestEncloser returns the longest existing ancestor of a name that is
// not in the zone. The apex always exists, so the walk ends there.
func (ix *zoneIndex) closestEncloser(qname string) *node {
	name := qname
	for {
		p, ok := parentName(name)
		if !ok {
			return ix.apex
		}
		if n, found := ix.nodes[p]; found {
			return n
		}
		name = p
	}
}

// exact classifies a name that exists (or the wildcard standing in for it).
func exact(n *node, qtype uint16, wild bool, ce *node) result {
	r := result{node: n, wild: wild, ce: ce}
	switch {
	case qtype == dns.TypeANY:
		r.kind = kindSuccess
		if n.empty() {
			r.kind = kindNoData
		}
	case qtype == dns.TypeRRSIG && len(n.allSigs) > 0:
		r.kind = kindSuccess
	case qtype != dns.TypeRRSIG && n.get(qtype) != nil:
		r.kind = kindSuccess
	case n.get(dns.TypeCNAME) != nil && qtype != dns.TypeRRSIG && qtype != dns.TypeNSEC:
		// BIND answers the DNSSEC types that may sit beside a CNAME
		// without following it.
		r.kind = kindCNAME
	default:
		r.kind = kindNoData
	}
	return r
}
