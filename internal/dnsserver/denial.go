package dnsserver

import (
	"bytes"
	"sort"

	"github.com/miekg/dns"
)

// Denial of existence for signed zones: the NSEC (RFC 4035 section 3.1.3)
// or NSEC3 (RFC 5155 section 7.2) records a DO=1 answer carries. An
// unsigned zone has neither chain and every proof is empty.

// nsecOf returns the NSEC RRset of n with its signatures.
func nsecOf(n *node) []dns.RR {
	if n == nil {
		return nil
	}
	if s := n.get(dns.TypeNSEC); s != nil {
		return s.withSigs(true)
	}
	return nil
}

// nsecCovering returns the NSEC owner that matches or precedes name in
// canonical order: its NSEC proves name (or its types) absent.
func (ix *zoneIndex) nsecCovering(name string) *node {
	if len(ix.nsec) == 0 {
		return nil
	}
	key := canonicalKey(name)
	i := sort.Search(len(ix.nsecKey), func(i int) bool {
		return bytes.Compare(ix.nsecKey[i], key) > 0
	})
	if i == 0 {
		i = len(ix.nsec) // before the apex: the last NSEC wraps around
	}
	return ix.nsec[i-1]
}

// proof collects NSEC or NSEC3 RRsets without repeating one.
type proof struct {
	rrs  []dns.RR
	seen []string
}

func (p *proof) add(owner string, rrs []dns.RR) {
	if len(rrs) == 0 {
		return
	}
	for _, s := range p.seen {
		if s == owner {
			return
		}
	}
	p.seen = append(p.seen, owner)
	p.rrs = append(p.rrs, rrs...)
}

func (p *proof) addNode(n *node) {
	if n != nil {
		p.add(n.name, nsecOf(n))
	}
}

// nxProof proves that qname does not exist and that no wildcard at its
// closest encloser ce could have answered.
func (ix *zoneIndex) nxProof(qname string, ce *node) []dns.RR {
	var p proof
	if ix.nsec3 != nil {
		ix.nsec3.closestEncloserProof(&p, qname, ce.name)
		ix.nsec3.cover(&p, wildcardOf(ce.name))
		return p.rrs
	}
	p.addNode(ix.nsecCovering(qname))
	p.addNode(ix.nsecCovering(wildcardOf(ce.name)))
	return p.rrs
}

// noDataProof proves that the name (or the wildcard answering for it)
// owns no RRset of the type asked for.
func (ix *zoneIndex) noDataProof(qname string, r result) []dns.RR {
	var p proof
	if ix.nsec3 != nil {
		if r.wild {
			ix.nsec3.closestEncloserProof(&p, qname, r.ce.name)
			ix.nsec3.match(&p, r.node.name)
			return p.rrs
		}
		if !ix.nsec3.match(&p, qname) {
			ix.nsec3.provableEncloserProof(&p, ix, qname)
		}
		return p.rrs
	}
	if r.wild {
		p.addNode(ix.nsecCovering(qname))
		p.addNode(r.node)
		return p.rrs
	}
	if r.node.get(dns.TypeNSEC) != nil {
		p.addNode(r.node)
	} else {
		p.addNode(ix.nsecCovering(qname))
	}
	return p.rrs
}

// wildcardProof proves that no closer name than the wildcard matches
// qname, for an answer synthesized from a wildcard.
func (ix *zoneIndex) wildcardProof(qname string, ce *node) []dns.RR {
	var p proof
	if ix.nsec3 != nil {
		ix.nsec3.cover(&p, nextCloser(qname, ce.name))
		return p.rrs
	}
	p.addNode(ix.nsecCovering(qname))
	return p.rrs
}

// noDSProof proves an unsigned delegation: the cut's NSEC (or NSEC3)
// without the DS bit, or an opt-out span covering it.
func (ix *zoneIndex) noDSProof(cut *node) []dns.RR {
	var p proof
	if ix.nsec3 != nil {
		if !ix.nsec3.match(&p, cut.name) {
			ix.nsec3.provableEncloserProof(&p, ix, cut.name)
		}
		return p.rrs
	}
	p.addNode(cut)
	return p.rrs
}

// nextCloser returns the ancestor of qname one label longer than ce.
func nextCloser(qname, ce string) string {
	name := qname
	for {
		p, ok := parentName(name)
		if !ok || p == ce {
			return name
		}
		name = p
	}
}
