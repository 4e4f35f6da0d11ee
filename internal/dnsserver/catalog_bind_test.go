package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/namedtest"
)

// TestCatalogFetchedAfterEarlyNotify: a BIND secondary started before its
// hidden primary fails its first catalog refresh and, for a moment after,
// only queues the NOTIFYs it acknowledges. The secondary must still fetch
// the catalog and serve its members.
func TestCatalogFetchedAfterEarlyNotify(t *testing.T) {
	namedtest.Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	const cat = "catalog.dadns.invalid"
	primaries := fmt.Sprintf(`primaries { 127.0.0.1 port %s key "%s"; }`, port, xfrKey)
	sec := namedtest.StartSecondary(t, namedtest.SecondaryOptions{
		Options: fmt.Sprintf(`catalog-zones { zone "%s" default-%s in-memory yes; };`, cat, primaries),
		Statements: fmt.Sprintf("key \"%s\" { algorithm hmac-sha256; secret \"%s\"; };\n"+
			"zone \"%s\" { type secondary; file \"catalog.db\"; %s; };\n", xfrKey, xfrSecret, cat, primaries),
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(sec.Log(), "zone "+cat+"/IN: refresh: failure trying primary") {
		if time.Now().After(deadline) {
			t.Fatalf("the secondary never tried the primary:\n%s", sec.Log())
		}
		time.Sleep(5 * time.Millisecond)
	}
	opt := TransferOptions{Catalog: cat, Notify: []string{sec.Addr}, NotifyKey: xfrKey,
		Allow: func(_ netip.Addr, key string) bool { return key == xfrKey },
		TSIG:  map[string]TSIGKey{xfrKey: {Algorithm: dns.HmacSHA256, Secret: xfrSecret}}}
	s := New(Options{Logger: quietLogger(), Transfers: &opt})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, _, err := s.Listen(ctx, addr); err != nil {
		t.Fatal(err)
	}
	// The secondary keeps asking until it is stopped: wait for the
	// server's loops to end before the next test changes package state.
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	s.Apply([]*Zone{xfrZone(t, "member.example.", 7, 1)}, nil)
	deadline = time.Now().Add(25 * time.Second)
	for {
		m := new(dns.Msg)
		m.SetQuestion("member.example.", dns.TypeSOA)
		r, err := dns.Exchange(m, sec.Addr)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("member zone not served by the secondary: %v %v; stats %+v\n%s", r, err, s.TransferStats(), sec.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The fetch retired the catalog's follow-ups.
	deadline = time.Now().Add(10 * time.Second)
	for {
		s.xfr.notify.mu.Lock()
		_, waiting := s.xfr.notify.jobs[notifyKey{sec.Addr, cat + "."}]
		s.xfr.notify.mu.Unlock()
		if !waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the catalog's NOTIFY to the secondary is still followed up after it was fetched")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("stats %+v", s.TransferStats())
}
