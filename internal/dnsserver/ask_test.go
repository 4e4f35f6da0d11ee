package dnsserver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestAsk(t *testing.T) {
	s := New(Options{})
	var rrs []dns.RR
	for _, line := range []string{
		"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 300",
		"example.com. 3600 IN NS ns1.example.com.",
		"ns1.example.com. 3600 IN A 192.0.2.1",
		`www.example.com. 300 IN TXT "<script>alert(1)</script>"`,
	} {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	s.Apply([]*Zone{{Origin: "example.com.", Hash: "h", RRs: rrs}}, nil)

	r, err := s.Ask("WWW.example.com", "txt")
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != "NOERROR" || !r.Authoritative || len(r.Answer) != 1 || !strings.Contains(r.Answer[0], "<script>") {
		t.Fatalf("www TXT: %+v", r)
	}
	r, err = s.Ask("nope.example.com", "A")
	if err != nil || r.Rcode != "NXDOMAIN" || len(r.Authority) != 1 || !strings.Contains(r.Authority[0], "SOA") {
		t.Fatalf("nope A: %+v, %v", r, err)
	}
	r, err = s.Ask("example.org", "A")
	if err != nil || r.Rcode != "REFUSED" {
		t.Fatalf("outside zones: %+v, %v", r, err)
	}
	if _, err := s.Ask("example.com", "NOTATYPE"); err == nil {
		t.Fatal("unknown type accepted")
	}
	if _, err := s.Ask("a..b", "A"); err == nil {
		t.Fatal("bad name accepted")
	}
}
