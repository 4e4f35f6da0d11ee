package builtin

import (
	"context"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/zone"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New: func(t *testing.T) backend.Backend { return New(dnsserver.New(dnsserver.Options{})) },
	})
}

// TestServesOverDNS checks that an applied zone is answered on the wire
// and a deleted one is refused.
func TestServesOverDNS(t *testing.T) {
	srv := dnsserver.New(dnsserver.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, _, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := New(srv)
	z := backendtest.Zone(t, "wire.example", 42)
	if err := b.Apply(ctx, []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.WIRE.example.", dns.TypeA)
	r, err := dns.Exchange(m, udp.String())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Authoritative || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
		t.Fatalf("reply %v", r)
	}
	if r.Question[0].Name != "www.WIRE.example." {
		t.Fatalf("question case not preserved: %s", r.Question[0].Name)
	}
	if err := b.Delete(ctx, []zone.Name{z.Name}); err != nil {
		t.Fatal(err)
	}
	if r, err = dns.Exchange(m, udp.String()); err != nil || r.Rcode != dns.RcodeRefused {
		t.Fatalf("deleted zone: %v %v", r, err)
	}
	if err := b.Verify(ctx, z.Name, z.Hash()); err == nil {
		t.Fatal("verify passed for a deleted zone")
	}
}
