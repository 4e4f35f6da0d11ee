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
