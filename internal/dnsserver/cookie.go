package dnsserver

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018):
// the server cookie is version 1, three reserved bytes, a 32-bit
// timestamp and SipHash-2-4 over the client cookie, those eight bytes and
// the client's address, keyed with a 16-byte secret. Nodes that share the
// secret (several dadns behind one address) accept each other's cookies;
// a previous secret can stay accepted while a new one rolls out.
//
// A query with a client cookie gets the cookie back with a server cookie
// (a fresh one when the one presented is missing, invalid or over half
// an hour old). A valid server cookie (made with either secret, at most
// an hour old, at most five minutes ahead) exempts the query from RRL.
// An invalid one is treated as if only the client cookie had come (the
// answer carries a fresh server cookie), as BIND does. A malformed
// option (not 8 or 16 to 40 bytes) gets FORMERR. When RRL limits a query
// that carried a cookie, the slip reply is BADCOOKIE with a fresh server
// cookie instead of TC=1 (RFC 7873 section 5.2.3): the client retries
// with it and is then exempt.

// CookieOptions configures server cookies; nil in Options turns them off.
type CookieOptions struct {
	Secret   [16]byte // zero: a random secret for this process
	Previous *[16]byte
}

// cookieState is what a query's COOKIE option says.
type cookieState uint8

const (
	cookieNone      cookieState = iota // no option (or cookies off)
	cookieClient                       // a client cookie, no valid server cookie
	cookieValid                        // a valid server cookie
	cookieMalformed                    // FORMERR
)

const (
	cookieValidFor = 3600 // seconds a server cookie is accepted
	cookieRenew    = 1800 // seconds after which a fresh one is sent
	cookieSkew     = 300  // seconds a timestamp may be ahead
	cookieOptLen   = 4 + 8 + 16
)

type cookies struct {
	secret   [16]byte
	previous *[16]byte
	now      func() time.Time
}

func newCookies(opt CookieOptions) *cookies {
	c := &cookies{secret: opt.Secret, previous: opt.Previous, now: time.Now}
	if c.secret == ([16]byte{}) {
		_, _ = rand.Read(c.secret[:])
	}
	return c
}

// check classifies the option data opt (nil: none) from ip at time now,
// and returns the server cookie to send when a fresh one is due.
func (c *cookies) check(opt []byte, ip netip.Addr, now uint32) (st cookieState, fresh bool) {
	switch {
	case opt == nil:
		return cookieNone, false
	case len(opt) == 8:
		return cookieClient, true
	case len(opt) < 16 || len(opt) > 40:
		return cookieMalformed, false
	}
	if len(opt) != 24 || opt[8] != 1 {
		return cookieClient, true // not a version 1 cookie of ours
	}
	ts := binary.BigEndian.Uint32(opt[12:])
	age := int64(int32(now - ts)) // serial arithmetic
	if age > cookieValidFor || age < -cookieSkew {
		return cookieClient, true
	}
	if !c.matches(&c.secret, opt, ip) && (c.previous == nil || !c.matches(c.previous, opt, ip)) {
		return cookieClient, true
	}
	return cookieValid, age > cookieRenew
}

// matches checks the hash of a received 24-byte cookie under secret.
func (c *cookies) matches(secret *[16]byte, opt []byte, ip netip.Addr) bool {
	var h [8]byte
	cookieHash(secret, opt[:8], opt[8:16], ip, h[:])
	return subtle.ConstantTimeCompare(h[:], opt[16:24]) == 1
}

// appendServerCookie appends the 16-byte server cookie for client cookie
// cc from ip at time now to b.
func appendServerCookie(b []byte, secret *[16]byte, cc []byte, ip netip.Addr, now uint32) []byte {
	var head [8]byte
	head[0] = 1
	binary.BigEndian.PutUint32(head[4:], now)
	b = append(b, head[:]...)
	var h [8]byte
	cookieHash(secret, cc, head[:], ip, h[:])
	return append(b, h[:]...)
}

// cookieHash is RFC 9018's SipHash-2-4(client cookie | version |
// reserved | timestamp | client IP) into out.
func cookieHash(secret *[16]byte, cc, head []byte, ip netip.Addr, out []byte) {
	var buf [8 + 8 + 16]byte
	n := copy(buf[:], cc[:8])
	n += copy(buf[n:], head[:8])
	if ip.Is4() {
		a := ip.As4()
		n += copy(buf[n:], a[:])
	} else {
		a := ip.As16()
		n += copy(buf[n:], a[:])
	}
	k0 := binary.LittleEndian.Uint64(secret[:8])
	k1 := binary.LittleEndian.Uint64(secret[8:])
	binary.LittleEndian.PutUint64(out, siphash24(k0, k1, buf[:n]))
}

// siphash24 is SipHash-2-4 (Aumasson and Bernstein).
func siphash24(k0, k1 uint64, m []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	last := uint64(len(m)) << 56
	for ; len(m) >= 8; m = m[8:] {
		w := binary.LittleEndian.Uint64(m)
		v3 ^= w
		round()
		round()
		v0 ^= w
	}
	for i, c := range m {
		last |= uint64(c) << (8 * i)
	}
	v3 ^= last
	round()
	round()
	v0 ^= last
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}

// queryCookie finds the COOKIE option of a query packet: its data, the
// EDNS UDP size, and whether there is one. Packets it cannot walk count
// as having none (the answer path rejects them anyway).
func queryCookie(pkt []byte) ([]byte, uint16, bool) {
	if len(pkt) < 12 {
		return nil, 0, false
	}
	be := binary.BigEndian
	off := 12
	for range be.Uint16(pkt[4:]) {
		if off = skipName(pkt, off); off < 0 || off+4 > len(pkt) {
			return nil, 0, false
		}
		off += 4
	}
	rrs := int(be.Uint16(pkt[6:])) + int(be.Uint16(pkt[8:])) + int(be.Uint16(pkt[10:]))
	for range rrs {
		if off = skipName(pkt, off); off < 0 || off+10 > len(pkt) {
			return nil, 0, false
		}
		typ, rdlen := be.Uint16(pkt[off:]), int(be.Uint16(pkt[off+8:]))
		off += 10
		if off+rdlen > len(pkt) {
			return nil, 0, false
		}
		if typ == 41 { // OPT
			size := be.Uint16(pkt[off-8:])
			opts := pkt[off : off+rdlen]
			for len(opts) >= 4 {
				code, l := be.Uint16(opts), int(be.Uint16(opts[2:]))
				if 4+l > len(opts) {
					return nil, 0, false
				}
				if code == 10 { // COOKIE
					return opts[4 : 4+l], size, true
				}
				opts = opts[4+l:]
			}
			return nil, 0, false
		}
		off += rdlen
	}
	return nil, 0, false
}

// appendCookieOption adds a COOKIE option (client cookie cc and the
// server cookie sc) to the OPT record of the packed reply out, which
// must be its last record and carry no options yet; false leaves out as
// it was.
func appendCookieOption(out, cc, sc []byte) ([]byte, bool) {
	n := len(out)
	if n < 12+11 || binary.BigEndian.Uint16(out[10:]) == 0 {
		return out, false
	}
	opt := out[n-11:]
	if opt[0] != 0 || binary.BigEndian.Uint16(opt[1:]) != 41 || binary.BigEndian.Uint16(opt[9:]) != 0 {
		return out, false
	}
	binary.BigEndian.PutUint16(opt[9:], uint16(4+len(cc)+len(sc)))
	out = append(out, 0, 10, 0, byte(len(cc)+len(sc)))
	out = append(out, cc...)
	return append(out, sc...), true
}

// queryCookieInfo is a UDP query's cookie as the loop sees it.
type queryCookieInfo struct {
	state cookieState
	fresh bool
	opt   []byte // the option's data (in the packet buffer)
	ip    netip.Addr
	limit int // largest reply the client takes
}

// readCookie reads and checks the COOKIE option of packet m.
func (s *Server) readCookie(m *ipv4.Message, now int64) queryCookieInfo {
	pkt := m.Buffers[0][:m.N]
	opt, size, ok := queryCookie(pkt)
	if !ok {
		return queryCookieInfo{}
	}
	ck := queryCookieInfo{opt: opt, ip: addrOf(m.Addr)}
	ck.state, ck.fresh = s.cookies.check(opt, ck.ip, uint32(now))
	ck.limit = min(max(int(size), dns.MinMsgSize), s.opt.MaxUDPSize)
	return ck
}

// addrOf is the client address of a UDP or TCP peer.
func addrOf(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// addCookie puts the client cookie and a server cookie (the one the
// client sent while it is valid and young, else a fresh one) in the reply
// out. A reply the option would push over the client's size is left
// without it.
func (s *Server) addCookie(out []byte, ck *queryCookieInfo, now uint32) []byte {
	if len(out)+cookieOptLen > ck.limit || len(ck.opt) < 8 {
		return out
	}
	var sc [16]byte
	if ck.state == cookieValid && !ck.fresh {
		copy(sc[:], ck.opt[8:24])
	} else {
		appendServerCookie(sc[:0], &s.cookies.secret, ck.opt[:8], ck.ip, now)
	}
	out, _ = appendCookieOption(out, ck.opt[:8], sc[:])
	return out
}

// badCookie is the BADCOOKIE reply to query pkt (the cookie is added by
// the caller), sent instead of a truncated slip to a rate-limited client
// that sent a client cookie: it retries with the server cookie and is
// then not limited.
func badCookie(pkt, out []byte) ([]byte, bool) {
	r := new(dns.Msg)
	if err := r.Unpack(pkt); err != nil || len(r.Question) != 1 || r.IsEdns0() == nil {
		return nil, false
	}
	b, err := errorReply(r, dns.RcodeBadCookie).PackBuffer(out)
	return b, err == nil
}

// tcpCookie adds the cookie to a reply over TCP (never rate limited), or
// returns ok false when the option is malformed (FORMERR).
func (s *Server) tcpCookie(r *dns.Msg, from net.Addr, out []byte) ([]byte, bool) {
	opt := r.IsEdns0()
	if s.cookies == nil || opt == nil {
		return out, true
	}
	for _, o := range opt.Option {
		c, isCookie := o.(*dns.EDNS0_COOKIE)
		if !isCookie {
			continue
		}
		data, err := hex.DecodeString(c.Cookie)
		if err != nil {
			return out, false
		}
		now := uint32(s.cookies.now().Unix())
		ck := queryCookieInfo{opt: data, ip: addrOf(from), limit: dns.MaxMsgSize}
		if ck.state, ck.fresh = s.cookies.check(data, ck.ip, now); ck.state == cookieMalformed {
			return out, false
		}
		return s.addCookie(out, &ck, now), true
	}
	return out, true
}
