package dnsserver

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// rcodeCounts counts answers sent by their full (12-bit, EDNS-extended)
// rcode.
type rcodeCounts [1 << 12]atomic.Uint64

// loopRcodes holds a counter table per UDP loop: a loop answering flat
// out counts every answer, and one table shared by the loops (one per
// core) would move the cache line of the NOERROR counter between the
// cores on every answer. Tables are kept after their loop ends (they are
// counts since the server was created): 32 KiB per socket opened.
type loopRcodes struct {
	mu   sync.Mutex
	list []*rcodeCounts
}

// add returns a new table, counted in Answers from now on.
func (l *loopRcodes) add() *rcodeCounts {
	c := new(rcodeCounts)
	l.mu.Lock()
	l.list = append(l.list, c)
	l.mu.Unlock()
	return c
}

// count reads the rcode of a packed reply and counts it.
func (c *rcodeCounts) count(reply []byte) {
	if rc, ok := replyRcode(reply); ok {
		c[rc].Add(1)
	}
}

// replyRcode returns a packed reply's rcode: the header's four bits,
// extended by its OPT record (BADVERS is 16: header 0, OPT 1). Only a reply
// without answer and authority records is searched for the OPT record:
// the replies that carry an extended rcode (refusals of a query) have
// none, and the answers on the fast path are not walked.
func replyRcode(p []byte) (int, bool) {
	if len(p) < 12 {
		return 0, false
	}
	be := binary.BigEndian
	rc := int(p[3] & 0x0f)
	if be.Uint16(p[6:]) != 0 || be.Uint16(p[8:]) != 0 || be.Uint16(p[10:]) == 0 {
		return rc, true
	}
	off := 12
	for range be.Uint16(p[4:]) {
		if off = skipName(p, off); off < 0 || off+4 > len(p) {
			return rc, true
		}
		off += 4
	}
	for range be.Uint16(p[10:]) {
		off = skipName(p, off)
		if off < 0 || off+10 > len(p) {
			return rc, true
		}
		if be.Uint16(p[off:]) == dns.TypeOPT {
			return int(p[off+4])<<4 | rc, true // the TTL's first octet
		}
		off += 10 + int(be.Uint16(p[off+8:]))
	}
	return rc, true
}

// skipName returns the offset after the (possibly compressed) name at
// off, or -1 when the packet ends inside it.
func skipName(p []byte, off int) int {
	for off >= 0 && off < len(p) {
		switch l := int(p[off]); {
		case l == 0:
			return off + 1
		case l&0xc0 == 0xc0:
			return off + 2
		default:
			off += 1 + l
		}
	}
	return -1
}

// rcodeName names an answer's rcode: 16 is BADVERS in a reply to a query
// (BADSIG only in TSIG, which we do not speak).
func rcodeName(rc int) string {
	if rc == dns.RcodeBadVers {
		return "BADVERS"
	}
	if name, ok := dns.RcodeToString[rc]; ok {
		return name
	}
	return "RCODE" + strconv.Itoa(rc)
}

// Answers returns how many replies were sent, by rcode mnemonic
// ("NOERROR", "NXDOMAIN", "BADVERS", ...), since the server was created.
func (s *Server) Answers() map[string]uint64 {
	out := make(map[string]uint64)
	s.loopRcodes.mu.Lock()
	tables := append([]*rcodeCounts{&s.rcodes}, s.loopRcodes.list...)
	s.loopRcodes.mu.Unlock()
	for i := range s.rcodes {
		var n uint64
		for _, t := range tables {
			n += t[i].Load()
		}
		if n > 0 {
			out[rcodeName(i)] = n
		}
	}
	return out
}
