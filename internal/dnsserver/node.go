package dnsserver

import "github.com/miekg/dns"

// rrset is one RRset of a node together with the RRSIGs that cover it.
type rrset struct {
	typ  uint16
	rrs  []dns.RR
	sigs []dns.RR
}

// node is one owner name of a zone. A node without sets is an empty
// non-terminal: it exists (RFC 8020), so it blocks wildcards.
type node struct {
	name string
	sets []*rrset
	// allSigs holds every RRSIG owned by the name: the answer to a query
	// for type RRSIG and part of an ANY answer.
	allSigs []dns.RR
	// cut is the topmost delegation point (NS below the apex) at or above
	// this name; nil when the name is authoritative data.
	cut *node
	// dname is the topmost strict ancestor that owns a DNAME.
	dname *node
	// wild is the child "*.name", when the zone has one.
	wild *node
	// nsec3 is the hashed owner of this name in an NSEC3 zone.
	nsec3 string
}

// get returns the RRset of type t, or nil.
func (n *node) get(t uint16) *rrset {
	for _, s := range n.sets {
		if s.typ == t {
			return s
		}
	}
	return nil
}

// empty reports whether n is an empty non-terminal.
func (n *node) empty() bool { return len(n.sets) == 0 && len(n.allSigs) == 0 }

// withSigs returns the records of s, followed by their signatures when do
// is set. It only allocates when signatures must be appended.
func (s *rrset) withSigs(do bool) []dns.RR {
	if !do || len(s.sigs) == 0 {
		return s.rrs
	}
	out := make([]dns.RR, 0, len(s.rrs)+len(s.sigs))
	out = append(out, s.rrs...)
	return append(out, s.sigs...)
}
