package builtin

import (
	"context"
	"testing"
	"time"

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

// TestHeldSocketsAnswerOnlyOnceLoaded asks a held backend before it is
// loaded: the question waits in the socket and is answered from the loaded
// zones, never refused.
func TestHeldSocketsAnswerOnlyOnceLoaded(t *testing.T) {
	srv := dnsserver.New(dnsserver.Options{})
	k, err := srv.Bind("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := NewHeld(srv, k)
	if !b.Volatile() {
		t.Fatal("an empty backend says it holds the stored zones")
	}
	z := backendtest.Zone(t, "held.example", 7)
	type reply struct {
		r   *dns.Msg
		err error
	}
	got := make(chan reply, 1)
	go func() {
		m := new(dns.Msg)
		m.SetQuestion("held.example.", dns.TypeSOA)
		c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
		r, _, err := c.Exchange(m, k.TCPAddr().String())
		got <- reply{r, err}
	}()
	select {
	case r := <-got:
		t.Fatalf("answered before the zones were loaded: %v %v", r.r, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failed, err := b.Load(ctx, []*zone.Zone{z})
	if err != nil || len(failed) > 0 {
		t.Fatalf("load: %v %v", failed, err)
	}
	r := <-got
	if r.err != nil || r.r.Rcode != dns.RcodeSuccess || !r.r.Authoritative {
		t.Fatalf("held question: %v %v", r.r, r.err)
	}
	if b.Volatile() {
		t.Fatal("a loaded backend still says it lost its zones")
	}
	if err := b.Verify(ctx, z.Name, z.Hash()); err != nil {
		t.Fatal(err)
	}
}
