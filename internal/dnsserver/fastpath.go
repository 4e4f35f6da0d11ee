package dnsserver

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"github.com/miekg/dns"
)

// The fast path answers a plain UDP query straight from its packet when
// the answer is in the cache: no unpacking into a dns.Msg, no lookup. A
// plain query has opcode QUERY, one question of class IN with an
// uncompressed name, no answer or authority records, and at most an OPT
// record of version 0. Everything else, and every cache miss, takes the
// slow path through dns.Msg, which fills the cache.

// fastQuery is what the fast path reads from a packet.
type fastQuery struct {
	nameEnd int // offset just past the question name
	nameLen int // length of the wire name at the start of the key
	qtype   uint16
	limit   int // largest answer the client takes over UDP
}

// fastReply answers pkt into out from the cache of snap. key is scratch
// space for the cache key.
func (s *Server) fastReply(snap *snapshot, pkt, key, out []byte) ([]byte, bool) {
	return s.fastReplyInfo(snap, pkt, key, out, nil)
}

// fastLookup is what the fast path knows about a query before it reads
// the zone's cache: the question, its cache key (and the key's hash), its
// name in presentation form and the zone's slot. The UDP loop makes one
// for every packet of a batch before answering any (udp.go: prefetch).
type fastLookup struct {
	q    fastQuery
	key  []byte
	h    uint64 // slotHash(key)
	zs   *zoneSlot
	sh   suffixHashes
	n    int // the name is text[:n]
	text [256]byte
}

// name is the query name in presentation form.
func (fl *fastLookup) name() string { return unsafe.String(&fl.text[0], fl.n) }

// lookupFast reads a plain query from pkt and finds its zone in snap;
// key is scratch space for the cache key. False: the fast path does not
// answer pkt.
func (s *Server) lookupFast(snap *snapshot, pkt, key []byte, fl *fastLookup) bool {
	return s.parseLookup(pkt, key, fl) && s.findLookup(snap, fl)
}

// parseLookup is lookupFast's first half: it reads the question and
// hashes the name's suffixes.
func (s *Server) parseLookup(pkt, key []byte, fl *fastLookup) bool {
	q, key, ok := s.parseFast(pkt, key)
	if !ok {
		return false
	}
	n, ok := wireText(key[:q.nameLen], fl.text[:])
	if !ok {
		return false
	}
	fl.q, fl.key, fl.n = q, key, n
	fl.sh.hash(fl.name())
	return true
}

// findLookup is lookupFast's second half: it finds the zone.
func (s *Server) findLookup(snap *snapshot, fl *fastLookup) bool {
	fl.zs = snap.findHashed(&fl.sh, fl.name(), fl.q.qtype)
	if fl.zs == nil {
		return false
	}
	fl.h = slotHash(unsafe.String(unsafe.SliceData(fl.key), len(fl.key)))
	return true
}

// fastReplyInfo is fastReply that also tells RRL about the reply (info
// may be nil). A name the zone has is answered from its cached answer; a
// name it does not have from the template cached for its closest
// encloser (template.go), when there is one.
func (s *Server) fastReplyInfo(snap *snapshot, pkt, key, out []byte, info *replyInfo) ([]byte, bool) {
	var fl fastLookup
	if !s.lookupFast(snap, pkt, key, &fl) {
		return nil, false
	}
	return s.answerFast(&fl, pkt, out, info)
}

// answerFast answers pkt, looked up into fl, into out.
func (s *Server) answerFast(fl *fastLookup, pkt, out []byte, info *replyInfo) ([]byte, bool) {
	q, key, name := fl.q, fl.key, fl.name()
	z := fl.zs.z
	if wire, ok := s.cachedAnswer(fl.zs, unsafe.String(unsafe.SliceData(key), len(key)), fl.h); ok {
		if len(wire) > q.limit {
			return nil, false
		}
		out = append(out[:0], wire...)
		out[0], out[1] = pkt[0], pkt[1]
		out[3] |= pkt[3] & 0x10 // CD
		copy(out[12:q.nameEnd], pkt[12:q.nameEnd])
		if info != nil {
			info.exists = true // the cache holds names that exist
			info.counter = s.fastCounter(z, q.qtype)
		}
		return out, true
	}
	if z.exists(name) {
		return s.fastPacked(z, pkt, key, q, out, info)
	}
	if s.noTemplates {
		return nil, false
	}
	var tk [300]byte
	ce := z.closestEncloser(name)
	tkey := appendTemplateKey(tk[:0], ce, q.qtype, key[len(key)-1])
	tmpl, ok := z.cache.get(unsafe.String(unsafe.SliceData(tkey), len(tkey)))
	if !ok {
		if tmpl, ok = s.packedTemplate(z, ce, key[:q.nameLen], pkt[q.nameEnd:q.nameEnd+4], q.qtype, key[len(key)-1]); !ok {
			return nil, false
		}
		z.cache.put(string(tkey), tmpl)
	}
	out, ok = renderTemplate(tmpl, pkt[12:q.nameEnd], out)
	if !ok || len(out) > q.limit {
		return nil, false
	}
	out[0], out[1] = pkt[0], pkt[1]
	out[3] |= pkt[3] & 0x10 // CD
	if info != nil {
		info.zone = z.origin
		info.counter = s.fastCounter(z, q.qtype)
	}
	return out, true
}

// cachedAnswer looks key (of hash h) up in the cache of the zone in zs: first in
// the table the slot's hint points at, which needs no load of the
// servedZone, then, when the hint is missing or stale, in the zone's
// current table, which becomes the hint.
func (s *Server) cachedAnswer(zs *zoneSlot, key string, h uint64) ([]byte, bool) {
	if s.noHint {
		return zs.z.cache.get(key)
	}
	hint := zs.hint.Load()
	if wire, ok := tableGet(hint, key, h); ok {
		return wire, true
	}
	cur := zs.z.cache.tab.Load()
	if cur == hint {
		return nil, false
	}
	zs.hint.Store(cur)
	return tableGet(cur, key, h)
}

// fastCounter is the counter an answer from z counts in: z's, except for
// DS, which the zone above answers while the counts go to the most
// specific zone (zoneStats.count decides).
func (s *Server) fastCounter(z *servedZone, qtype uint16) *zoneCounter {
	if qtype == dns.TypeDS {
		return nil
	}
	return s.zstats.counterFor(z)
}

// fastPacked answers a name the zone has from its packed form when it can
// (packedanswer.go), and keeps the answer in the cache.
func (s *Server) fastPacked(z *servedZone, pkt, key []byte, q fastQuery, out []byte, info *replyInfo) ([]byte, bool) {
	if s.noPacked {
		return nil, false
	}
	out, ok := z.answerPacked(key[:q.nameLen], pkt[q.nameEnd:q.nameEnd+4], q.qtype, key[len(key)-1], key[:q.nameLen], true, out)
	if !ok || len(out) > q.limit {
		return nil, false
	}
	packedAnswers.Add(1)
	z.cache.put(unsafe.String(unsafe.SliceData(key), len(key)), out)
	out[0], out[1] = pkt[0], pkt[1]
	out[3] |= pkt[3] & 0x10 // CD
	copy(out[12:q.nameEnd], pkt[12:q.nameEnd])
	if info != nil {
		info.zone, info.exists = z.origin, true
		info.counter = s.fastCounter(z, q.qtype)
	}
	return out, true
}

// packedTemplate builds from the packed zone the template for the names
// below ce (a closest encloser, presentation form without escapes) that
// qn (lower-case wire) is one of: the data of the wildcard below ce, or
// NXDOMAIN when there is none.
func (s *Server) packedTemplate(z *servedZone, ce string, qn, question []byte, qtype uint16, flags uint8) ([]byte, bool) {
	if s.noPacked || len(qn) < len(ce)+1 {
		return nil, false
	}
	ceWire := qn[len(qn)-len(ce)-1:]
	var wt [260]byte
	wildText := append(append(wt[:0], "*."...), ce...)
	var owner []byte
	if z.exists(unsafe.String(unsafe.SliceData(wildText), len(wildText))) {
		var wb [258]byte
		owner = append(append(wb[:0], 1, '*'), ceWire...)
	}
	tmpl, ok := z.answerPacked(qn, question, qtype, flags, owner, false, nil)
	if ok {
		packedAnswers.Add(1)
	}
	return tmpl, ok
}

// packedAnswers counts the answers built from packed zones.
var packedAnswers atomic.Int64

// parseFast reads a plain query and builds its cache key.
func (s *Server) parseFast(pkt, key []byte) (fastQuery, []byte, bool) {
	var q fastQuery
	if len(pkt) < 17 || pkt[2]&0xF8 != 0 { // QR or an opcode other than QUERY
		return q, key, false
	}
	be := binary.BigEndian
	if be.Uint16(pkt[4:]) != 1 || be.Uint16(pkt[6:]) != 0 || be.Uint16(pkt[8:]) != 0 || be.Uint16(pkt[10:]) > 1 {
		return q, key, false
	}
	key, off, ok := readName(pkt, 12, key[:0])
	if !ok || off+4 > len(pkt) {
		return q, key, false
	}
	q.nameEnd, q.nameLen = off, len(key)
	qtype, qclass := be.Uint16(pkt[off:]), be.Uint16(pkt[off+2:])
	if qclass != dns.ClassINET || metaType(qtype) || (qtype == dns.TypeANY && s.opt.MinimalANY) {
		return q, key, false
	}
	q.qtype = qtype
	aq := query{qtype: qtype, noAuth: pkt[2]&0x01 != 0}
	edns, size, ok := readOPT(pkt, off+4, be.Uint16(pkt[10:]) == 1, &aq)
	if !ok {
		return q, key, false
	}
	q.limit = dns.MinMsgSize
	if edns {
		aq.minimal = size <= dns.MinMsgSize
		q.limit = min(max(int(size), dns.MinMsgSize), s.opt.MaxUDPSize)
	}
	return q, append(key, byte(qtype>>8), byte(qtype), keyFlags(aq, edns)), true
}

// metaType lists the query types that refuse() answers specially.
func metaType(t uint16) bool {
	switch t {
	case dns.TypeOPT, dns.TypeTKEY, dns.TypeTSIG, dns.TypeMAILA, dns.TypeMAILB, dns.TypeAXFR, dns.TypeIXFR:
		return true
	}
	return false
}

// readName appends the lower-cased wire name at off to key and returns
// the offset after it. Compression pointers are not expected in a query.
func readName(pkt []byte, off int, key []byte) ([]byte, int, bool) {
	for {
		if off >= len(pkt) {
			return key, 0, false
		}
		l := int(pkt[off])
		if l&0xC0 != 0 || off+1+l > len(pkt) || len(key)+1+l > 255 {
			return key, 0, false
		}
		key = append(key, byte(l))
		off++
		if l == 0 {
			return key, off, true
		}
		for _, c := range pkt[off : off+l] {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			key = append(key, c)
		}
		off += l
	}
}

// readOPT checks the end of the packet: nothing, or one well-formed OPT
// record of version 0. It sets the DO bit in q and returns the EDNS size.
func readOPT(pkt []byte, off int, has bool, q *query) (edns bool, size uint16, ok bool) {
	if !has {
		return false, 0, off == len(pkt)
	}
	be := binary.BigEndian
	if off+11 > len(pkt) || pkt[off] != 0 || be.Uint16(pkt[off+1:]) != dns.TypeOPT || pkt[off+6] != 0 {
		return false, 0, false
	}
	size = be.Uint16(pkt[off+3:])
	q.do = be.Uint16(pkt[off+7:])&0x8000 != 0
	rdlen := int(be.Uint16(pkt[off+9:]))
	opts := pkt[off+11:]
	if len(opts) != rdlen {
		return false, 0, false
	}
	for len(opts) > 0 {
		if len(opts) < 4 || len(opts) < 4+int(be.Uint16(opts[2:])) || !plainOption(be.Uint16(opts)) {
			return false, 0, false
		}
		opts = opts[4+int(be.Uint16(opts[2:])):]
	}
	return true, size, true
}

// plainOption lists the EDNS options that cannot make unpacking fail
// (and so cannot turn the slow path's answer into FORMERR).
func plainOption(code uint16) bool {
	switch code {
	case dns.EDNS0NSID, dns.EDNS0COOKIE, dns.EDNS0PADDING:
		return true
	}
	return false
}

// wireText writes the presentation form of a lower-case wire name into
// buf ("www.example.com.", "." for the root) and returns its length. It
// declines names with bytes that presentation form escapes; those take
// the slow path.
func wireText(name, buf []byte) (int, bool) {
	n := 0
	for i := 0; i < len(name); {
		l := int(name[i])
		if l == 0 {
			break
		}
		if i+1+l > len(name) || n+l+1 > len(buf) {
			return 0, false
		}
		for _, c := range name[i+1 : i+1+l] {
			if c <= ' ' || c >= 0x7f || c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' || c == '$' || c == '\'' {
				return 0, false
			}
			buf[n] = c
			n++
		}
		buf[n] = '.'
		n++
		i += l + 1
	}
	if n == 0 {
		buf[0] = '.'
		n = 1
	}
	return n, true
}
