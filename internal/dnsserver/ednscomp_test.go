package dnsserver

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The EDNS compliance table: ISC's EDNS compliance test names
// (ednscomp.isc.org, the genreport tool), which RFC 8906 section 8 turns
// into a checklist for authoritative servers. Each row is one query and
// what the reply must be; the table runs against a listener on 127.0.0.1
// and on the wildcard address, over UDP (ednstcp over TCP), with cookies
// and RRL on.
type ednsRow struct {
	name  string // ISC's test name
	tcp   bool
	query func(m *dns.Msg)
	check func(r *dns.Msg, size int) error // nil reply: none expected
}

func ednsOpt(m *dns.Msg, version uint8, do bool, size uint16) *dns.OPT {
	m.SetEdns0(size, do)
	o := m.IsEdns0()
	o.SetVersion(version)
	return o
}

func wantRcode(r *dns.Msg, rc int) error {
	if r.Rcode != rc {
		return fmt.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[rc])
	}
	return nil
}

func wantOPT(r *dns.Msg, version uint8) error {
	o := r.IsEdns0()
	if o == nil {
		return fmt.Errorf("no OPT in the reply")
	}
	if o.Version() != version {
		return fmt.Errorf("OPT version %d, want %d", o.Version(), version)
	}
	return nil
}

func noOption(r *dns.Msg, code uint16) error {
	if o := r.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if e.Option() == code {
				return fmt.Errorf("option %d echoed", code)
			}
		}
	}
	return nil
}

func soaAnswer(r *dns.Msg) error {
	if !r.Authoritative {
		return fmt.Errorf("AA not set")
	}
	if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeSOA {
		return fmt.Errorf("answer %v, want the SOA", r.Answer)
	}
	return nil
}

func all(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var ednsTable = []ednsRow{
	{"dns", false, func(m *dns.Msg) {}, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r), func() error {
			if r.IsEdns0() != nil {
				return fmt.Errorf("OPT in the reply to a query without")
			}
			return nil
		}())
	}},
	{"aa", false, func(m *dns.Msg) { m.Authoritative = true }, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r))
	}},
	{"zflag", false, func(m *dns.Msg) { m.Zero = true }, func(r *dns.Msg, _ int) error {
		if r.Zero {
			return fmt.Errorf("Z echoed")
		}
		return all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r))
	}},
	{"edns", false, func(m *dns.Msg) { ednsOpt(m, 0, false, 4096) }, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r), wantOPT(r, 0))
	}},
	{"edns1", false, func(m *dns.Msg) { ednsOpt(m, 1, false, 4096) }, func(r *dns.Msg, _ int) error {
		if len(r.Answer) != 0 {
			return fmt.Errorf("answer with BADVERS")
		}
		return all(wantRcode(r, dns.RcodeBadVers), wantOPT(r, 0))
	}},
	{"edns@512", false, func(m *dns.Msg) {
		ednsOpt(m, 0, true, 512)
		m.Question[0].Qtype = dns.TypeDNSKEY
	}, func(r *dns.Msg, size int) error {
		if size > 512 {
			return fmt.Errorf("%d-byte reply to a 512-byte buffer", size)
		}
		return all(wantRcode(r, dns.RcodeSuccess), wantOPT(r, 0))
	}},
	{"ednsopt", false, func(m *dns.Msg) {
		ednsOpt(m, 0, false, 4096).Option = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: 100, Data: []byte{}}}
	}, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r), wantOPT(r, 0), noOption(r, 100))
	}},
	{"edns1opt", false, func(m *dns.Msg) {
		ednsOpt(m, 1, false, 4096).Option = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: 100, Data: []byte{}}}
	}, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeBadVers), wantOPT(r, 0), noOption(r, 100))
	}},
	{"do", false, func(m *dns.Msg) { ednsOpt(m, 0, true, 4096) }, func(r *dns.Msg, _ int) error {
		if err := all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r), wantOPT(r, 0)); err != nil {
			return err
		}
		if !r.IsEdns0().Do() {
			return fmt.Errorf("DO not echoed")
		}
		return nil
	}},
	{"edns1do", false, func(m *dns.Msg) { ednsOpt(m, 1, true, 4096) }, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeBadVers), wantOPT(r, 0))
	}},
	{"ednsflags", false, func(m *dns.Msg) { ednsOpt(m, 0, false, 4096).Hdr.Ttl |= 0x0080 }, func(r *dns.Msg, _ int) error {
		if err := all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r), wantOPT(r, 0)); err != nil {
			return err
		}
		if r.IsEdns0().Hdr.Ttl&0x7fff != 0 {
			return fmt.Errorf("unknown EDNS flag echoed: %#x", r.IsEdns0().Hdr.Ttl)
		}
		return nil
	}},
	{"edns1flags", false, func(m *dns.Msg) { ednsOpt(m, 1, false, 4096).Hdr.Ttl |= 0x0080 }, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeBadVers), wantOPT(r, 0))
	}},
	{"optlist", false, func(m *dns.Msg) {
		ednsOpt(m, 0, false, 4096).Option = []dns.EDNS0{
			&dns.EDNS0_NSID{Code: dns.EDNS0NSID},
			&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 0, Address: net.IPv4zero.To4()},
			&dns.EDNS0_EXPIRE{Code: dns.EDNS0EXPIRE},
			&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"},
		}
	}, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r), wantOPT(r, 0), noOption(r, dns.EDNS0EXPIRE))
	}},
	{"ednstcp", true, func(m *dns.Msg) { ednsOpt(m, 0, false, 4096) }, func(r *dns.Msg, _ int) error {
		return all(wantRcode(r, dns.RcodeSuccess), soaAnswer(r), wantOPT(r, 0))
	}},
	// RFC 8906 section 8.1.1: an unknown type gets NODATA with the SOA.
	{"type666", false, func(m *dns.Msg) { m.Question[0].Qtype = 666 }, func(r *dns.Msg, _ int) error {
		if len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
			return fmt.Errorf("answer %v authority %v, want NODATA with the SOA", r.Answer, r.Ns)
		}
		return wantRcode(r, dns.RcodeSuccess)
	}},
	// RFC 8906 section 8.1.3: an unknown opcode gets NOTIMP.
	{"opcode", false, func(m *dns.Msg) { m.Opcode = 15 }, func(r *dns.Msg, _ int) error {
		return wantRcode(r, dns.RcodeNotImplemented)
	}},
}

func TestEDNSCompliance(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(listen, func(t *testing.T) {
			s := New(Options{Logger: quietLogger(), Cookies: &CookieOptions{}, RRL: &RRLOptions{ResponsesPerSecond: 1000}})
			s.Apply([]*Zone{versionZone(t, 1)}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			udp, _, err := s.Listen(ctx, listen)
			if err != nil {
				t.Fatal(err)
			}
			addr := fmt.Sprintf("127.0.0.1:%d", udp.(*net.UDPAddr).Port)
			for _, row := range ednsTable {
				for round := range 2 { // the second may come from the cache
					m := new(dns.Msg)
					m.SetQuestion("example.test.", dns.TypeSOA)
					m.RecursionDesired = false
					row.query(m)
					netw := "udp"
					if row.tcp {
						netw = "tcp"
					}
					c := &dns.Client{Net: netw, Timeout: 5 * time.Second, UDPSize: 4096}
					r, _, err := c.Exchange(m, addr)
					if err != nil {
						t.Errorf("%s (round %d): %v", row.name, round, err)
						continue
					}
					packed, _ := r.Pack()
					if err := row.check(r, len(packed)); err != nil {
						t.Errorf("%s (round %d): %v", row.name, round, err)
					}
				}
			}
			// A response (QR=1) gets no reply at all.
			q := new(dns.Msg)
			q.SetQuestion("example.test.", dns.TypeSOA)
			q.Response = true
			if _, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(q, addr); err == nil {
				t.Error("qr: a response was answered")
			}
		})
	}
}

// TestMinimalANY: over UDP one RRset (RFC 8482), over TCP all of them.
func TestMinimalANY(t *testing.T) {
	s := New(Options{Logger: quietLogger(), MinimalANY: true})
	s.Apply([]*Zone{mustZone(t, "any.test.", `$TTL 300
@ SOA ns.any.test. h.any.test. 1 3600 600 86400 300
@ NS ns
@ A 192.0.2.1
@ MX 10 mail
@ TXT "v=spf1 -all"
ns A 192.0.2.2
mail A 192.0.2.3
`)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(netw, addr string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("any.test.", dns.TypeANY)
		m.SetEdns0(1232, false)
		r, _, err := (&dns.Client{Net: netw, Timeout: 5 * time.Second}).Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for range 2 { // before and after a TCP ANY fills the cache
		full := ask("tcp", tcp.String())
		if len(full.Answer) != 5 {
			t.Fatalf("TCP ANY: %d records, want all 5 (SOA NS A MX TXT)", len(full.Answer))
		}
		r := ask("udp", udp.String())
		types := map[uint16]bool{}
		for _, rr := range r.Answer {
			types[rr.Header().Rrtype] = true
		}
		if len(types) != 1 || r.Rcode != dns.RcodeSuccess || !r.Authoritative {
			t.Fatalf("UDP ANY: %v, want one RRset", r.Answer)
		}
	}
}
