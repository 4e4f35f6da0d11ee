package dnsserver

import (
	"context"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func secretOf(t *testing.T, s string) *[16]byte {
	var k [16]byte
	copy(k[:], unhex(t, s))
	return &k
}

// TestSipHash24 checks the reference vector of the SipHash paper.
func TestSipHash24(t *testing.T) {
	var key, msg [16]byte
	for i := range key {
		key[i] = byte(i)
	}
	for i := range 15 {
		msg[i] = byte(i)
	}
	h := siphash24(0x0706050403020100, 0x0f0e0d0c0b0a0908, msg[:15])
	if h != 0xa129ca6149be45e5 {
		t.Fatalf("siphash24 = %x", h)
	}
}

// TestCookieRFC9018Vectors runs the examples of RFC 9018 appendix A.
func TestCookieRFC9018Vectors(t *testing.T) {
	tests := []struct {
		name, secret, ip, cc string
		now                  uint32
		want                 string // server cookie
	}{
		{"A.1 learning a new server cookie", "e5e973e5a6b2a43f48e7dc849e37bfcf", "198.51.100.100", "2464c4abcf10c957", 1559731985, "010000005cf79f111f8130c3eee29480"},
		{"A.2 the same client learning a renewed cookie", "e5e973e5a6b2a43f48e7dc849e37bfcf", "198.51.100.100", "2464c4abcf10c957", 1559734385, "010000005cf7a871d4a564a1442aca77"},
		{"A.3 another client learning a renewed cookie", "e5e973e5a6b2a43f48e7dc849e37bfcf", "203.0.113.203", "fc93fc62807ddb86", 1559734700, "010000005cf7a9acf73a7810aca2381e"},
		{"A.4 IPv6, old secret", "dd3bdf9344b678b185a6f5cb60fca715", "2001:db8:220:1:59de:d0f4:8769:82b8", "22681ab97d52c298", 1559741817, "010000005cf7c57926556bd0934c72f8"},
		{"A.4 IPv6, new secret", "445536bcd2513298075a5d379663c962", "2001:db8:220:1:59de:d0f4:8769:82b8", "22681ab97d52c298", 1559741961, "010000005cf7c609a6bb79d16625507a"},
	}
	for _, tt := range tests {
		got := appendServerCookie(nil, secretOf(t, tt.secret), unhex(t, tt.cc), netip.MustParseAddr(tt.ip), tt.now)
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("%s: server cookie %x, want %s", tt.name, got, tt.want)
		}
	}

	// Verification, as a server sees them.
	a3 := newCookies(CookieOptions{Secret: *secretOf(t, "e5e973e5a6b2a43f48e7dc849e37bfcf")})
	ip3 := netip.MustParseAddr("203.0.113.203")
	// A.3: the client's cookie has reserved bytes set (they are hashed as
	// sent) and dates from 1559727985: valid then, stale at 1559734700.
	opt := unhex(t, "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5")
	if st, _ := a3.check(opt, ip3, 1559727985); st != cookieValid {
		t.Errorf("A.3 at issue time: %v", st)
	}
	if st, fresh := a3.check(opt, ip3, 1559734700); st != cookieClient || !fresh {
		t.Errorf("A.3 an hour and more later: %v %v", st, fresh)
	}
	if st, _ := a3.check(opt, netip.MustParseAddr("203.0.113.204"), 1559727985); st != cookieClient {
		t.Errorf("A.3 from another address: %v", st)
	}
	// A.4: rolled-over secret, the old one still accepted as previous.
	ip6 := netip.MustParseAddr("2001:db8:220:1:59de:d0f4:8769:82b8")
	a4 := newCookies(CookieOptions{Secret: *secretOf(t, "445536bcd2513298075a5d379663c962"), Previous: secretOf(t, "dd3bdf9344b678b185a6f5cb60fca715")})
	old := unhex(t, "22681ab97d52c298010000005cf7c57926556bd0934c72f8")
	if st, _ := a4.check(old, ip6, 1559741961); st != cookieValid {
		t.Errorf("A.4 cookie of the previous secret: %v", st)
	}
	a4.previous = nil
	if st, _ := a4.check(old, ip6, 1559741961); st != cookieClient {
		t.Errorf("A.4 cookie of a retired secret: %v", st)
	}
	// Lengths.
	for n, want := range map[int]cookieState{8: cookieClient, 7: cookieMalformed, 15: cookieMalformed, 16: cookieClient, 40: cookieClient, 41: cookieMalformed} {
		if st, _ := a4.check(make([]byte, n), ip6, 1559741961); st != want {
			t.Errorf("%d-byte option: %v, want %v", n, st, want)
		}
	}
}

// TestCookieOverUDPAndTCP: a cookie comes back over both transports, a
// malformed option gets FORMERR, and a query without one gets no cookie.
func TestCookieOverUDPAndTCP(t *testing.T) {
	s := New(Options{Logger: quietLogger(), Cookies: &CookieOptions{}})
	s.Apply([]*Zone{versionZone(t, 1)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(netw, addr, cookie string, withOpt bool) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("example.test.", dns.TypeA)
		if withOpt {
			m.SetEdns0(1232, false)
			if cookie != "" {
				m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie}}
			}
		}
		r, _, err := (&dns.Client{Net: netw, Timeout: 5 * time.Second}).Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: %v", netw, err)
		}
		return r
	}
	cookieOf := func(r *dns.Msg) string {
		if o := r.IsEdns0(); o != nil {
			for _, e := range o.Option {
				if c, ok := e.(*dns.EDNS0_COOKIE); ok {
					return c.Cookie
				}
			}
		}
		return ""
	}
	for _, tc := range []struct{ netw, addr string }{{"udp", udp.String()}, {"tcp", tcp.String()}} {
		for i := range 2 { // the second UDP one comes from the cache (fast path)
			r := ask(tc.netw, tc.addr, "0102030405060708", true)
			if c := cookieOf(r); len(c) != 48 || c[:16] != "0102030405060708" || len(r.Answer) != 1 {
				t.Fatalf("%s #%d: cookie %q, reply %v", tc.netw, i, c, r)
			}
			full := cookieOf(r)
			if r2 := ask(tc.netw, tc.addr, full, true); cookieOf(r2) != full || r2.Rcode != dns.RcodeSuccess {
				t.Fatalf("%s: with the server cookie: %v", tc.netw, r2)
			}
		}
		if r := ask(tc.netw, tc.addr, "01020304050607080910", true); r.Rcode != dns.RcodeFormatError {
			t.Fatalf("%s: 10-byte cookie: rcode %s", tc.netw, dns.RcodeToString[r.Rcode])
		}
		if r := ask(tc.netw, tc.addr, "", true); cookieOf(r) != "" {
			t.Fatalf("%s: cookie without asking", tc.netw)
		}
	}
}
