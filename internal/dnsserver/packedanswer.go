package dnsserver

import (
	"bytes"
	"encoding/binary"

	"github.com/miekg/dns"
)

// Answers are built straight from the packed zone, without decoding it,
// when they are plainly a copy of its records: the zone is unsigned and
// has no DNAME and no delegation below its apex, and the records that
// answer (the name's own, or for a name that does not exist the wildcard
// below its closest encloser) include no CNAME. The answer is then the
// RRset of a type whose data needs no more than its target's addresses
// (A, AAAA, TXT, CAA; MX and SRV with the in-zone addresses of their
// targets in additional), with the apex NS RRset in authority when BIND's
// minimal responses keep it and none of its targets is inside the zone;
// or NODATA or NXDOMAIN with the apex SOA at its negative TTL. Everything
// else (and a zone of more than packedScanMax records, whose records are
// scanned) decodes the zone and takes the full path. An answer for a name
// that exists is built canonical (ID 0, lower-case question), as the cache
// keeps it; one for a name that does not is built as the template of its
// closest encloser (template.go).

// packedScanMax bounds the records scanned for one answer.
const packedScanMax = 64

// packedAnswerTypes are the types answered from the packed form.
func packedAnswerType(t uint16) bool {
	switch t {
	case dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCAA, dns.TypeMX, dns.TypeSRV:
		return true
	}
	return false
}

// targetAt says where the name that asks for additional data sits in the
// data of an answered type (MX exchange, SRV target); ok is false for the
// types without one.
func targetAt(t uint16) (skip int, ok bool) {
	switch t {
	case dns.TypeMX:
		return 2, true
	case dns.TypeSRV:
		return 6, true
	}
	return 0, false
}

// packedNoDataType lists the query types whose NODATA answer is the plain
// one (not ANY, nor the DNSSEC and alias types the full path treats apart).
func packedNoDataType(t uint16) bool {
	switch t {
	case dns.TypeANY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeDS, dns.TypeCNAME, dns.TypeDNAME:
		return false
	}
	return true
}

// packedRR is one record of the packed zone: where its header and data are.
type packedRR struct {
	hdr, rd, end int // offsets of type, of the data, after the data
}

// answerPacked builds into out the answer to qn (lower-case wire name, in
// the zone) for qtype with the cache-key flags, or says it cannot.
// question is the query's type and class (4 bytes). owner is the name
// whose records answer: qn itself, or the wildcard that covers it; nil
// for NXDOMAIN. With compress the answer is the canonical one the cache
// keeps (names compressed against the question); without, it is a
// template (template.go).
func (p *packedZone) answerPacked(qn, question []byte, qtype uint16, flags uint8, owner []byte, compress bool, out []byte) ([]byte, bool) {
	if !p.plain || p.count > packedScanMax || len(qn) <= len(p.origin) {
		return nil, false
	}
	originWire := qn[len(qn)-len(p.origin)-1:] // names here have no escapes
	name := func(out, n []byte) []byte {
		if compress {
			return appendNameAgainst(out, n, qn)
		}
		return append(out, n...)
	}
	w := p.wire
	be := binary.BigEndian
	var ans, ns [packedScanMax]packedRR
	na, nns := 0, 0
	soa := packedRR{hdr: -1}
	owned := false
	var scratch [256]byte
	for off := 0; off < len(w); {
		o, end, ok := expandName(w, off, scratch[:0])
		if !ok || end+10 > len(w) {
			return nil, false
		}
		rr := packedRR{hdr: end, rd: end + 10, end: end + 10 + int(be.Uint16(w[end+8:]))}
		if rr.end > len(w) {
			return nil, false
		}
		off = rr.end
		typ := be.Uint16(w[end:])
		if be.Uint16(w[end+2:]) != dns.ClassINET {
			continue
		}
		if owner != nil && bytes.Equal(o, owner) {
			owned = true
			switch {
			case typ == dns.TypeCNAME:
				return nil, false
			case typ == qtype && !dupRdata(w, ans[:na], rr):
				ans[na] = rr
				na++
			}
		}
		if bytes.Equal(o, originWire) {
			switch typ {
			case dns.TypeSOA:
				if soa.hdr < 0 {
					soa = rr
				}
			case dns.TypeNS:
				ns[nns] = rr
				nns++
			}
		}
	}
	if (owner != nil && !owned) || soa.hdr < 0 {
		return nil, false // an empty non-terminal (or a hash collision)
	}
	noAuth, minimal := flags&keyRD != 0, flags&keyMinimal != 0
	var auth int
	out = append(out[:0], 0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	if noAuth {
		out[2] |= 0x01
	}
	out = append(out, qn...)
	out = append(out, question...)
	switch {
	case owner != nil && na > 0:
		if !packedAnswerType(qtype) {
			return nil, false
		}
		skip, named := targetAt(qtype)
		for _, rr := range ans[:na] {
			if compress {
				out = append(out, 0xC0, 12)
			} else {
				out = append(out, qn...)
			}
			if !named {
				out = append(out, w[rr.hdr:rr.end]...)
				continue
			}
			// The target may be compressed against the zone's wire:
			// written again.
			if rr.rd+skip > rr.end {
				return nil, false
			}
			target, tEnd, ok := expandName(w, rr.rd+skip, scratch[:0])
			if !ok || tEnd != rr.end {
				return nil, false
			}
			out = append(out, w[rr.hdr:rr.hdr+8]...)
			lenAt := len(out)
			out = append(out, 0, 0)
			out = append(out, w[rr.rd:rr.rd+skip]...)
			out = name(out, target)
			be.PutUint16(out[lenAt:], uint16(len(out)-lenAt-2))
		}
		if !noAuth && !minimal && nns > 0 {
			for _, rr := range ns[:nns] {
				target, _, ok := expandName(w, rr.rd, scratch[:0])
				if !ok || isBelowWire(target, originWire) {
					return nil, false // in-zone targets get additional data
				}
				if dupTarget(w, ns[:auth], target) {
					continue
				}
				ns[auth] = rr
				auth++
			}
			for _, rr := range ns[:auth] {
				out = name(out, originWire)
				out = append(out, w[rr.hdr:rr.hdr+8]...)
				lenAt := len(out)
				out = append(out, 0, 0)
				target, _, _ := expandName(w, rr.rd, scratch[:0])
				out = name(out, target)
				be.PutUint16(out[lenAt:], uint16(len(out)-lenAt-2))
			}
		}
	case owner == nil || packedNoDataType(qtype):
		auth = 1
		rd := w[soa.rd:soa.end]
		if len(rd) < 22 {
			return nil, false
		}
		ttl := min(be.Uint32(w[soa.hdr+4:]), be.Uint32(rd[len(rd)-4:]))
		if owner == nil {
			out[3] = dns.RcodeNameError
			if qtype == dns.TypeSOA {
				ttl = 0 // BIND's zero-no-soa-ttl
			}
		}
		out = name(out, originWire)
		out = append(out, 0, byte(dns.TypeSOA), 0, byte(dns.ClassINET))
		out = be.AppendUint32(out, ttl)
		lenAt := len(out)
		out = append(out, 0, 0)
		mname, mEnd, ok1 := expandName(w, soa.rd, scratch[:0])
		if !ok1 {
			return nil, false
		}
		out = name(out, mname)
		rname, rEnd, ok2 := expandName(w, mEnd, scratch[:0])
		if !ok2 || soa.end-rEnd != 20 {
			return nil, false
		}
		out = name(out, rname)
		out = append(out, w[rEnd:soa.end]...)
		be.PutUint16(out[lenAt:], uint16(len(out)-lenAt-2))
	default:
		return nil, false
	}
	if owner == nil {
		na = 0
	}
	be.PutUint16(out[6:], uint16(na))
	be.PutUint16(out[8:], uint16(auth))
	extra := 0
	if skip, named := targetAt(qtype); named && na > 0 && !minimal && na <= maxAdditional {
		var ok bool
		if out, extra, ok = p.addressesPacked(ans[:na], skip, qn, originWire, compress, out); !ok {
			return nil, false
		}
	}
	be.PutUint16(out[10:], uint16(extra))
	if flags&keyEDNS != 0 {
		var do byte
		if flags&keyDO != 0 {
			do = 0x80
		}
		out = append(out, 0, 0, byte(dns.TypeOPT), byte(ednsSize>>8), byte(ednsSize&0xff), 0, 0, do, 0, 0, 0)
		be.PutUint16(out[10:], uint16(extra+1))
	}
	return out, true
}

// addressesPacked appends the additional data of the answer records ans
// (their targets after skip octets of data): for each target inside the
// zone, in the order of the answer, its A then its AAAA RRset, each once,
// as the full path's additional() does. A target inside the zone that
// does not exist could be covered by a wildcard: it declines then.
func (p *packedZone) addressesPacked(ans []packedRR, skip int, qn, originWire []byte, compress bool, out []byte) ([]byte, int, bool) {
	w := p.wire
	be := binary.BigEndian
	var seen [packedScanMax][]byte
	nseen, extra := 0, 0
	var tb, ob [256]byte
	for _, a := range ans {
		target, _, ok := expandName(w, a.rd+skip, tb[:0])
		if !ok {
			return nil, 0, false
		}
		if !isBelowWire(target, originWire) || dupName(seen[:nseen], target) {
			continue
		}
		seen[nseen] = append([]byte(nil), target...)
		nseen++
		owned := false
		for _, typ := range [2]uint16{dns.TypeA, dns.TypeAAAA} {
			var added [packedScanMax]packedRR // a repeated record goes once
			nadded := 0
			for off := 0; off < len(w); {
				owner, end, ok := expandName(w, off, ob[:0])
				if !ok || end+10 > len(w) {
					return nil, 0, false
				}
				rEnd := end + 10 + int(be.Uint16(w[end+8:]))
				if rEnd > len(w) {
					return nil, 0, false
				}
				if equalFoldWire(owner, target) && be.Uint16(w[end+2:]) == dns.ClassINET {
					owned = true
					if rr := (packedRR{hdr: end, rd: end + 10, end: rEnd}); be.Uint16(w[end:]) == typ && !dupRdata(w, added[:nadded], rr) {
						added[nadded] = rr
						nadded++
						if compress {
							out = appendNameAgainst(out, target, qn)
						} else {
							out = append(out, target...)
						}
						out = append(out, w[end:rEnd]...)
						extra++
					}
				}
				off = rEnd
			}
		}
		if !owned {
			var text [256]byte
			n, ok := wireText(target, text[:])
			if !ok || !p.exists(string(text[:n])) {
				return nil, 0, false // maybe a wildcard's: the full path decides
			}
		}
	}
	return out, extra, true
}

// dupName reports whether name is one of have (ASCII case ignored).
func dupName(have [][]byte, name []byte) bool {
	for _, h := range have {
		if equalFoldWire(h, name) {
			return true
		}
	}
	return false
}

// expandName appends to dst the name at off in msg, following compression
// pointers, and returns it with the offset just past the name where it
// starts.
func expandName(msg []byte, off int, dst []byte) ([]byte, int, bool) {
	end := -1
	for hops := 0; off < len(msg); {
		l := int(msg[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return append(dst, 0), end, true
		case l&0xC0 == 0xC0:
			if off+1 >= len(msg) || hops > 32 {
				return nil, 0, false
			}
			if end < 0 {
				end = off + 2
			}
			off = int(msg[off]&0x3F)<<8 | int(msg[off+1])
			hops++
		case l&0xC0 != 0 || off+1+l > len(msg) || len(dst)+1+l > 254:
			return nil, 0, false
		default:
			dst = append(dst, msg[off:off+1+l]...)
			off += 1 + l
		}
	}
	return nil, 0, false
}

// isBelowWire reports whether the wire name is origin or below it (ASCII
// case ignored).
func isBelowWire(name, origin []byte) bool {
	j := len(name) - len(origin)
	return j >= 0 && labelStart(name, j) && equalFoldWire(name[j:], origin)
}

// dupRdata reports whether rr repeats the data of one of have (types
// without names in their data: the bytes say it).
func dupRdata(w []byte, have []packedRR, rr packedRR) bool {
	for _, h := range have {
		if bytes.Equal(w[h.rd:h.end], w[rr.rd:rr.end]) {
			return true
		}
	}
	return false
}

// dupTarget reports whether one of the NS records have points at target.
func dupTarget(w []byte, have []packedRR, target []byte) bool {
	var scratch [256]byte
	for _, h := range have {
		if t, _, ok := expandName(w, h.rd, scratch[:0]); ok && equalFoldWire(t, target) {
			return true
		}
	}
	return false
}
