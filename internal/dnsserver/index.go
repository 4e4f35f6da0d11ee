package dnsserver

import (
	"fmt"
	"sort"

	"github.com/miekg/dns"
)

// zoneIndex is the read-only form of one zone that lookups use. It is
// built once by Apply and never changed afterwards.
type zoneIndex struct {
	zone *Zone
	// packed is the compact form the index was decoded from (nil for an
	// index built straight from a Zone).
	packed *packedZone
	origin string
	nodes  map[string]*node
	apex   *node
	// negSOA is the apex SOA with the negative-caching TTL of RFC 2308
	// (min of its TTL and MINIMUM), negSOASigs its signatures likewise.
	negSOA     []dns.RR
	negSOASigs []dns.RR
	// zeroSOA and zeroSOASigs carry TTL 0: BIND sends those in a
	// negative answer to an SOA query.
	zeroSOA     []dns.RR
	zeroSOASigs []dns.RR
	ns          *rrset
	// nsec lists the nodes owning an NSEC RRset in canonical order.
	nsec    []*node
	nsecKey [][]byte
	nsec3   *nsec3Chain
	// secure is set for a signed zone: a DNSKEY at the apex and an NSEC or
	// NSEC3 chain. Only those get DS proofs in referrals, as in BIND.
	secure bool
	// nodeBlock and setBlock hold the nodes and RRsets (see newNode).
	nodeBlock []node
	setBlock  []rrset
}

// buildIndex indexes z. The records of z are shared, never modified.
func buildIndex(z *Zone) (*zoneIndex, error) {
	origin := canon(dns.Fqdn(z.Origin))
	ix := &zoneIndex{zone: z, origin: origin, nodes: make(map[string]*node, len(z.RRs))}
	// Nodes and RRsets come from two blocks sized for a usual zone (about
	// two records per name, a few empty non-terminals; at most one RRset
	// per record), the rest one by one: a zone decoded on demand costs
	// fewer allocations.
	ix.nodeBlock = make([]node, 0, len(z.RRs)/2+4)
	ix.setBlock = make([]rrset, 0, len(z.RRs))
	ix.apex = ix.ensure(origin)
	var nsec3rrs []dns.RR
	for _, rr := range z.RRs {
		h := rr.Header()
		name := canon(h.Name)
		if !isBelow(name, origin) || h.Class != dns.ClassINET {
			continue
		}
		if isNSEC3Data(rr) {
			nsec3rrs = append(nsec3rrs, rr)
			continue
		}
		ix.add(ix.ensure(name), rr)
	}
	if ix.apex.get(dns.TypeSOA) == nil {
		return nil, fmt.Errorf("dnsserver: index %s: %w", origin, errNoSOA)
	}
	ix.link()
	ix.prepareNegative()
	ix.ns = ix.apex.get(dns.TypeNS)
	ix.indexNSEC()
	ix.nsec3 = newNSEC3Chain(ix, nsec3rrs)
	ix.secure = ix.apex.get(dns.TypeDNSKEY) != nil && (len(ix.nsec) > 0 || ix.nsec3 != nil)
	return ix, nil
}

// isNSEC3Data reports whether rr lives in the hashed NSEC3 namespace,
// which is not part of the zone's ordinary names (as in BIND).
func isNSEC3Data(rr dns.RR) bool {
	switch r := rr.(type) {
	case *dns.NSEC3:
		return true
	case *dns.RRSIG:
		return r.TypeCovered == dns.TypeNSEC3
	}
	return false
}

// ensure returns the node for name, creating it and every missing
// ancestor up to the apex (the empty non-terminals).
func (ix *zoneIndex) ensure(name string) *node {
	if n, ok := ix.nodes[name]; ok {
		return n
	}
	n := ix.newNode(name)
	ix.nodes[name] = n
	if name != ix.origin {
		if p, ok := parentName(name); ok {
			ix.ensure(p)
		}
	}
	return n
}

// newNode returns a new node from the index's block while it has room
// (appending within capacity never moves the nodes handed out).
func (ix *zoneIndex) newNode(name string) *node {
	if len(ix.nodeBlock) == cap(ix.nodeBlock) {
		return &node{name: name}
	}
	ix.nodeBlock = append(ix.nodeBlock, node{name: name})
	return &ix.nodeBlock[len(ix.nodeBlock)-1]
}

// newSet returns a new RRset of type t, from the block while it has room.
func (ix *zoneIndex) newSet(t uint16) *rrset {
	if len(ix.setBlock) == cap(ix.setBlock) {
		return &rrset{typ: t}
	}
	ix.setBlock = append(ix.setBlock, rrset{typ: t})
	return &ix.setBlock[len(ix.setBlock)-1]
}

// add stores rr at n: signatures next to what they cover, everything else
// in its RRset. A record that repeats one already stored is dropped.
func (ix *zoneIndex) add(n *node, rr dns.RR) {
	if sig, ok := rr.(*dns.RRSIG); ok {
		n.allSigs = append(n.allSigs, rr)
		s := n.get(sig.TypeCovered)
		if s == nil {
			s = ix.newSet(sig.TypeCovered)
			n.sets = append(n.sets, s)
		}
		s.sigs = append(s.sigs, rr)
		return
	}
	t := rr.Header().Rrtype
	s := n.get(t)
	if s == nil {
		s = ix.newSet(t)
		n.sets = append(n.sets, s)
	}
	for _, old := range s.rrs {
		if dns.IsDuplicate(old, rr) {
			return
		}
	}
	s.rrs = append(s.rrs, rr)
}

// link drops signature-only sets from the type list and computes, top
// down, each node's delegation point, DNAME ancestor and wildcard child.
func (ix *zoneIndex) link() {
	names := make([]string, 0, len(ix.nodes))
	for name, n := range ix.nodes {
		names = append(names, name)
		n.sets = dropSigOnly(n.sets)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) < len(names[j]) })
	for _, name := range names {
		ix.linkNode(ix.nodes[name])
	}
}

func dropSigOnly(sets []*rrset) []*rrset {
	out := sets[:0]
	for _, s := range sets {
		if len(s.rrs) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// linkNode runs after its parent was linked (parents are shorter names).
func (ix *zoneIndex) linkNode(n *node) {
	if n == ix.apex {
		return
	}
	pname, _ := parentName(n.name)
	p := ix.nodes[pname]
	n.cut = p.cut
	if n.cut == nil && n.get(dns.TypeNS) != nil {
		n.cut = n
	}
	n.dname = p.dname
	if n.dname == nil && p.get(dns.TypeDNAME) != nil {
		n.dname = p
	}
	if len(n.name) > 1 && n.name[0] == '*' && n.name[1] == '.' {
		p.wild = n
	}
}

// prepareNegative keeps the SOA and its signatures with the TTL that
// negative answers carry (RFC 2308 section 3).
func (ix *zoneIndex) prepareNegative() {
	s := ix.apex.get(dns.TypeSOA)
	soa := s.rrs[0].(*dns.SOA)
	ttl := min(soa.Hdr.Ttl, soa.Minttl)
	ix.negSOA = []dns.RR{withTTL(soa, ttl)}
	ix.zeroSOA = []dns.RR{withTTL(soa, 0)}
	for _, sig := range s.sigs {
		ix.negSOASigs = append(ix.negSOASigs, withTTL(sig, ttl))
		ix.zeroSOASigs = append(ix.zeroSOASigs, withTTL(sig, 0))
	}
}

// withTTL returns rr, or a copy of it carrying ttl.
func withTTL(rr dns.RR, ttl uint32) dns.RR {
	if rr.Header().Ttl == ttl {
		return rr
	}
	c := dns.Copy(rr)
	c.Header().Ttl = ttl
	return c
}

// indexNSEC sorts the NSEC owners of the zone in canonical order.
func (ix *zoneIndex) indexNSEC() {
	for _, n := range ix.nodes {
		if n.get(dns.TypeNSEC) != nil {
			ix.nsec = append(ix.nsec, n)
		}
	}
	if len(ix.nsec) == 0 {
		return
	}
	keys := make(map[*node][]byte, len(ix.nsec))
	for _, n := range ix.nsec {
		keys[n] = canonicalKey(n.name)
	}
	sort.Slice(ix.nsec, func(i, j int) bool {
		return string(keys[ix.nsec[i]]) < string(keys[ix.nsec[j]])
	})
	ix.nsecKey = make([][]byte, len(ix.nsec))
	for i, n := range ix.nsec {
		ix.nsecKey[i] = keys[n]
	}
}
