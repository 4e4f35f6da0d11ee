package dnsserver

import (
	"hash/maphash"
	"slices"

	"github.com/miekg/dns"
)

// Answers for names that do not exist (NXDOMAIN, and names a wildcard
// answers) cannot be cached by name: random names would fill the cache.
// But below the name's closest encloser nothing exists, so every such
// name with the same closest encloser, type and flags gets the same
// answer up to the query name itself (the owner of synthesized records).
// The zone's cache keeps that answer once, packed, under the closest
// encloser; a later query for another name below it unpacks it, puts its
// own name in and packs it again, without decoding the zone. The closest
// encloser is found from the packed zone's sorted name hashes.
//
// Only answers that are plainly that qualify: the first lookup ended in
// NXDOMAIN, a wildcard's data or a wildcard's NODATA, with no CNAME or
// DNAME followed and no delegation; and not DNSSEC answers (DO) of signed
// zones, whose proofs depend on the name.

// nameSeed keys the name hashes; it is random for each process, so names
// colliding with a zone's names cannot be made up from outside.
var nameSeed = maphash.MakeSeed()

func nameHash(name string) uint64 { return maphash.String(nameSeed, name) }

// exists reports whether name (canonical) exists in the zone.
func (p *packedZone) exists(name string) bool {
	_, ok := slices.BinarySearch(p.names, nameHash(name))
	return ok
}

// closestEncloser returns the closest encloser of qname, a name below the
// origin that does not exist in the zone.
func (p *packedZone) closestEncloser(qname string) string {
	name := qname
	for {
		parent, ok := parentName(name)
		if !ok || parent == p.origin || len(parent) < len(p.origin) {
			return p.origin
		}
		if p.exists(parent) {
			return parent
		}
		name = parent
	}
}

// appendTemplateKey appends the cache key of the answer for names below
// ce. It starts with a byte no wire name starts with (labels are at most
// 63 octets long).
func appendTemplateKey(b []byte, ce string, qtype uint16, flags uint8) []byte {
	b = append(b, '~')
	b = append(b, ce...)
	return append(b, byte(qtype>>8), byte(qtype), flags)
}

// templated says whether the answer a just built for qname may stand for
// every name with the same closest encloser.
func (a *answer) templated(z *packedZone) bool {
	return a.simple && !(a.q.do && z.signed) && !a.q.minimalAny
}

// fromTemplate renders the cached answer for another name below the same
// closest encloser: the template with qname in the question and as the
// owner of the records the template's name owned.
func fromTemplate(tmpl []byte, r *dns.Msg, qname string) (*dns.Msg, bool) {
	m := new(dns.Msg)
	if err := m.Unpack(tmpl); err != nil || len(m.Question) != 1 {
		return nil, false
	}
	old := m.Question[0].Name
	for _, sec := range [3][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if h := rr.Header(); h.Name == old {
				h.Name = qname
			}
		}
	}
	m.Id = r.Id
	m.CheckingDisabled = r.CheckingDisabled
	m.Question = r.Question[:1]
	return m, true
}
