package dnsserver

import (
	"bytes"
	"encoding/binary"
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

// makeTemplate packs the answer m for qname as a template: ID 0, no CD
// bit, the lower-case question name, and no name compression, so that
// renderTemplate can put another name in without decoding anything.
func makeTemplate(m *dns.Msg, qname string) ([]byte, error) {
	return packAs(m, qname, false)
}

// renderTemplate writes into out the answer a template stands for when
// asked about qn (the query's name in wire form, as the client spelled
// it): qn in the question and as the owner of every record the
// template's own name owned. Other owner names, and the names in the data
// of the types rdataNames lists, are compressed against qn where they end like it, the way a
// packed message would point into its question. The ID and the CD bit
// are left to the caller. It fails only on a template it did not make.
func renderTemplate(tmpl, qn, out []byte) ([]byte, bool) {
	if len(tmpl) < 12 {
		return nil, false
	}
	be := binary.BigEndian
	oldEnd, ok := plainNameEnd(tmpl, 12)
	if !ok || oldEnd+4 > len(tmpl) {
		return nil, false
	}
	old := tmpl[12:oldEnd]
	out = append(out[:0], tmpl[:12]...)
	out = append(out, qn...)
	out = append(out, tmpl[oldEnd:oldEnd+4]...)
	off := oldEnd + 4
	records := int(be.Uint16(tmpl[6:])) + int(be.Uint16(tmpl[8:])) + int(be.Uint16(tmpl[10:]))
	for range records {
		end, ok := plainNameEnd(tmpl, off)
		if !ok || end+10 > len(tmpl) {
			return nil, false
		}
		if name := tmpl[off:end]; bytes.Equal(name, old) {
			out = append(out, 0xC0, 12)
		} else {
			out = appendNameAgainst(out, name, qn)
		}
		rdEnd := end + 10 + int(be.Uint16(tmpl[end+8:]))
		if rdEnd > len(tmpl) {
			return nil, false
		}
		skip, names := rdataNames(be.Uint16(tmpl[end:]))
		if names == 0 {
			out = append(out, tmpl[end:rdEnd]...)
			off = rdEnd
			continue
		}
		out = append(out, tmpl[end:end+8]...)
		lenAt := len(out)
		out = append(out, 0, 0)
		rd := tmpl[end+10 : rdEnd]
		if skip > len(rd) {
			return nil, false
		}
		out = append(out, rd[:skip]...)
		at := skip
		for range names {
			e, ok := plainNameEnd(rd, at)
			if !ok {
				return nil, false
			}
			out = appendNameAgainst(out, rd[at:e], qn)
			at = e
		}
		out = append(out, rd[at:]...)
		be.PutUint16(out[lenAt:], uint16(len(out)-lenAt-2))
		off = rdEnd
	}
	return out, off == len(tmpl)
}

// rdataNames says where the names sit in the data of the record types
// whose names a message may compress (RFC 3597, section 4): after skip
// octets, names of them in a row. Other types are copied as they are.
func rdataNames(t uint16) (skip, names int) {
	switch t {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR:
		return 0, 1
	case dns.TypeMX:
		return 2, 1
	case dns.TypeSOA:
		return 0, 2
	}
	return 0, 0
}

// plainNameEnd returns the offset just past the uncompressed wire name at
// off in b.
func plainNameEnd(b []byte, off int) (int, bool) {
	for off < len(b) {
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xC0 != 0:
			return 0, false
		}
		off += l + 1
	}
	return 0, false
}

// appendNameAgainst appends the uncompressed wire name to out, its longest
// suffix that qn (written at offset 12 of the message) ends with replaced
// by a pointer there.
func appendNameAgainst(out, name, qn []byte) []byte {
	for i := 0; i < len(name) && name[i] != 0; i += int(name[i]) + 1 {
		suffix := name[i:]
		if j := len(qn) - len(suffix); j >= 0 && labelStart(qn, j) && equalFoldWire(suffix, qn[j:]) {
			out = append(out, name[:i]...)
			return append(out, 0xC0|byte((12+j)>>8), byte(12+j))
		}
	}
	return append(out, name...)
}

// labelStart reports whether a label of the wire name starts at j.
func labelStart(name []byte, j int) bool {
	i := 0
	for i < j && i < len(name) && name[i] != 0 {
		i += int(name[i]) + 1
	}
	return i == j
}

// equalFoldWire compares two wire names of the same length, ignoring the
// case of ASCII letters (length octets are below 64, never letters).
func equalFoldWire(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
