package dnsserver

import (
	"context"
	"testing"

	"github.com/miekg/dns"
)

func TestAnswersCountedByRcode(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	s.Apply([]*Zone{mustZone(t, "count.test.", "$TTL 60\n@ IN SOA ns. h. 1 1 1 1 1\n@ IN NS ns.count.test.\nns IN A 192.0.2.1\n")}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(name, net, addr string) {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		c := &dns.Client{Net: net}
		if _, _, err := c.Exchange(m, addr); err != nil {
			t.Fatal(err)
		}
	}
	ask("ns.count.test.", "udp", udp.String())
	ask("ns.count.test.", "udp", udp.String()) // cached path
	ask("nope.count.test.", "udp", udp.String())
	ask("ns.count.test.", "tcp", tcp.String())
	ask("elsewhere.example.", "udp", udp.String())
	got := s.Answers()
	if got["NOERROR"] != 3 || got["NXDOMAIN"] != 1 || got["REFUSED"] != 1 {
		t.Fatalf("answers %v", got)
	}
}

// TestBadVersCounted: a query with EDNS version 1 is answered BADVERS (the
// header's rcode 0 extended by the OPT record), and counted as BADVERS, not
// NOERROR, over UDP and TCP.
func TestBadVersCounted(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	s.Apply([]*Zone{mustZone(t, "vers.test.", "$TTL 60\n@ IN SOA ns. h. 1 1 1 1 1\n@ IN NS ns.vers.test.\nns IN A 192.0.2.1\n")}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ net, addr string }{{"udp", udp.String()}, {"tcp", tcp.String()}} {
		m := new(dns.Msg)
		m.SetQuestion("ns.vers.test.", dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().SetVersion(1)
		r, _, err := (&dns.Client{Net: c.net}).Exchange(m, c.addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeBadVers {
			t.Fatalf("%s: rcode %d, want BADVERS", c.net, r.Rcode)
		}
	}
	if got := s.Answers(); got["BADVERS"] != 2 || got["NOERROR"] != 0 || len(got) != 1 {
		t.Fatalf("answers %v, want BADVERS 2 only", got)
	}
}

// TestReplyRcode reads the rcode of packed replies, extended or not, and
// survives cut and malformed packets.
func TestReplyRcode(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("a.example.", dns.TypeA)
	q.SetEdns0(1232, false)
	pack := func(rcode int, extra bool) []byte {
		m := new(dns.Msg)
		m.SetRcode(q, rcode)
		if extra {
			m.Extra = append(m.Extra, &dns.A{Hdr: dns.RR_Header{Name: "a.example.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: []byte{192, 0, 2, 1}})
		}
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.SetExtendedRcode(uint16(rcode))
		m.Extra = append(m.Extra, o)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		rcode int
		extra bool
	}{{dns.RcodeSuccess, false}, {dns.RcodeRefused, false}, {dns.RcodeBadVers, false}, {dns.RcodeBadVers, true}, {dns.RcodeBadCookie, false}} {
		b := pack(c.rcode, c.extra)
		if got, ok := replyRcode(b); !ok || got != c.rcode {
			t.Errorf("rcode %d (extra %v): read %d %v", c.rcode, c.extra, got, ok)
		}
		for n := range len(b) { // every cut: no panic, the header's bits once there is a header
			got, ok := replyRcode(b[:n])
			if ok != (n >= 12) || (ok && got != c.rcode&0xf && got != c.rcode) {
				t.Errorf("rcode %d cut at %d: %d %v", c.rcode, n, got, ok)
			}
		}
	}
	loop := pack(dns.RcodeBadVers, false)
	loop[12] = 0x3f // a label length running past the end
	if got, ok := replyRcode(loop); !ok || got != 0 {
		t.Errorf("malformed name: %d %v", got, ok)
	}
}
