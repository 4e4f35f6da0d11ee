package dnsserver

import (
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// nsec3Chain is the hashed denial chain of an NSEC3-signed zone. Its
// records live outside the ordinary names, as BIND keeps them.
type nsec3Chain struct {
	alg    uint8
	iter   uint16
	salt   string
	hashes []string   // upper-case base32hex owner labels, sorted
	sets   [][]dns.RR // the NSEC3 RR and its signatures, per hash
}

// newNSEC3Chain indexes the NSEC3 records that use the parameters of the
// apex NSEC3PARAM (or, without one, of the first NSEC3 record).
func newNSEC3Chain(ix *zoneIndex, rrs []dns.RR) *nsec3Chain {
	c := &nsec3Chain{}
	if !c.params(ix, rrs) {
		return nil
	}
	byHash := make(map[string][]dns.RR)
	for _, rr := range rrs {
		h := strings.ToUpper(firstLabel(rr.Header().Name))
		if n, ok := rr.(*dns.NSEC3); ok && !c.uses(n.Hash, n.Iterations, n.Salt) {
			continue
		}
		byHash[h] = append(byHash[h], rr)
	}
	for h, set := range byHash {
		if hasNSEC3(set) {
			c.hashes = append(c.hashes, h)
		}
	}
	sort.Strings(c.hashes)
	c.sets = make([][]dns.RR, len(c.hashes))
	for i, h := range c.hashes {
		c.sets[i] = nsec3First(byHash[h])
	}
	if len(c.hashes) == 0 {
		return nil
	}
	return c
}

func (c *nsec3Chain) params(ix *zoneIndex, rrs []dns.RR) bool {
	if s := ix.apex.get(dns.TypeNSEC3PARAM); s != nil {
		for _, rr := range s.rrs {
			if p := rr.(*dns.NSEC3PARAM); p.Flags == 0 {
				c.alg, c.iter, c.salt = p.Hash, p.Iterations, p.Salt
				return true
			}
		}
	}
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NSEC3); ok {
			c.alg, c.iter, c.salt = n.Hash, n.Iterations, n.Salt
			return true
		}
	}
	return false
}

func (c *nsec3Chain) uses(alg uint8, iter uint16, salt string) bool {
	return alg == c.alg && iter == c.iter && strings.EqualFold(salt, c.salt)
}

func hasNSEC3(set []dns.RR) bool {
	for _, rr := range set {
		if rr.Header().Rrtype == dns.TypeNSEC3 {
			return true
		}
	}
	return false
}

// nsec3First orders a hashed owner's records: the NSEC3 RRs, then the
// signatures.
func nsec3First(set []dns.RR) []dns.RR {
	out := make([]dns.RR, 0, len(set))
	for _, rr := range set {
		if rr.Header().Rrtype == dns.TypeNSEC3 {
			out = append(out, rr)
		}
	}
	for _, rr := range set {
		if rr.Header().Rrtype != dns.TypeNSEC3 {
			out = append(out, rr)
		}
	}
	return out
}

func firstLabel(name string) string {
	if off, end := dns.NextLabel(name, 0); !end {
		return name[:off-1]
	}
	return name
}

// index returns the position of name's hash and whether it is present.
func (c *nsec3Chain) index(name string) (int, string, bool) {
	h := dns.HashName(name, c.alg, c.iter, c.salt)
	i := sort.SearchStrings(c.hashes, h)
	return i, h, i < len(c.hashes) && c.hashes[i] == h
}

// match adds the NSEC3 whose owner is the hash of name, if there is one.
func (c *nsec3Chain) match(p *proof, name string) bool {
	i, h, ok := c.index(name)
	if ok {
		p.add(h, c.sets[i])
	}
	return ok
}

// cover adds the NSEC3 whose span covers the hash of name.
func (c *nsec3Chain) cover(p *proof, name string) {
	i, _, ok := c.index(name)
	if ok {
		return // a match proves existence, it cannot cover
	}
	if i == 0 {
		i = len(c.hashes)
	}
	p.add(c.hashes[i-1], c.sets[i-1])
}

// closestEncloserProof adds the NSEC3 matching the closest encloser and
// the one covering the next closer name (RFC 5155 section 7.2.1).
func (c *nsec3Chain) closestEncloserProof(p *proof, qname, ce string) {
	c.match(p, ce)
	c.cover(p, nextCloser(qname, ce))
}

// provableEncloserProof proves the closest ancestor of name that has an
// NSEC3 (for opt-out spans, where name itself has none).
func (c *nsec3Chain) provableEncloserProof(p *proof, ix *zoneIndex, name string) {
	ce := name
	for {
		parent, ok := parentName(ce)
		if !ok || !isBelow(parent, ix.origin) {
			return
		}
		ce = parent
		if _, _, ok := c.index(ce); ok {
			c.closestEncloserProof(p, name, ce)
			return
		}
	}
}
