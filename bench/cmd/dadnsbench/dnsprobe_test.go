package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestUDPProberReusesSocket: the prober's questions leave from one
// socket, a reply to an earlier question is skipped by its ID, and a
// timeout redials.
func TestUDPProberReusesSocket(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sources := map[string]int{}
	served := make(chan struct{})
	go func() {
		defer close(served)
		buf := make([]byte, 512)
		for n := 0; ; n++ {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:k]) != nil {
				continue
			}
			sources[from.String()]++
			if n == 2 {
				continue // the third question gets no answer: the prober times out
			}
			r := new(dns.Msg)
			r.SetReply(q)
			r.Authoritative = true
			r.Answer = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
				Ns: "ns.", Mbox: "h.", Serial: uint32(100 + n)}}
			if n == 1 {
				stale := r.Copy()
				stale.Id = q.Id + 1 // an older question's reply arrives first
				out, _ := stale.Pack()
				_, _ = pc.WriteTo(out, from)
			}
			out, _ := r.Pack()
			_, _ = pc.WriteTo(out, from)
		}
	}()
	p := newUDPProber(pc.LocalAddr().String())
	p.c.Timeout = 2 * time.Second // replies are prompt; only the unanswered question waits it out
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, want := range []uint32{100, 101} {
		if got, err := p.serial(ctx, "example."); err != nil || got != want {
			t.Fatalf("question %d: serial %d, %v; want %d", i, got, err, want)
		}
	}
	if _, err := p.serial(ctx, "example."); err == nil {
		t.Fatal("an unanswered question did not fail")
	}
	if got, err := p.serial(ctx, "example."); err != nil || got != 103 {
		t.Fatalf("after the timeout: serial %d, %v; want 103", got, err)
	}
	p.close()
	_ = pc.Close()
	<-served
	if len(sources) != 2 {
		t.Fatalf("questions came from %d sockets, want 2 (one, then one after the timeout): %v", len(sources), sources)
	}
}
