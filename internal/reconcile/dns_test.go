package reconcile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/testutil/fakeda"
)

// TestDNSSerialsReadOnlyChangedTexts: with the DNS serial check, a pass
// reads over HTTP only the texts of zones whose serial changed on DA (once
// each: the apply reuses it), and repairs them.
func TestDNSSerialsReadOnlyChangedTexts(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 20, "127.0.0.1")
	for _, i := range []int{4, 11} {
		name := fmt.Sprintf("site%d.example", i)
		da.AddLocal(name, "user", fakeda.Zone(name, 2))
	}
	r := n.reconciler(server(da, "127.0.0.1"))
	rep, _ := runOnce(t, r, false)
	if rep.Applied[reconcile.Fetch] != 2 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, i := range []int{4, 11} {
		name := fmt.Sprintf("site%d.example", i)
		if z, _ := n.get(name); z.Serial != 2 {
			t.Errorf("%s not repaired: serial %d", name, z.Serial)
		}
		if f := da.Fetches(name); f != 1 {
			t.Errorf("%s: text read %d times, want 1", name, f)
		}
	}
	if got := da.ZoneFetches(); got != 2 {
		t.Fatalf("%d zone texts read, want 2 (unchanged zones are settled over DNS)", got)
	}
	s := rep.Servers[0]
	if s.SerialCheck != "dns" || s.Held != 20 || s.DNSUnchanged != 18 || s.DNSChanged != 2 || s.DNSFallbacks != 0 ||
		s.Texts != 2 || s.DNSQueries < 20 || s.Requests["/CMD_API_DNS_ADMIN"] != 2 || s.Requests["/CMD_DNS_ADMIN"] != 7 {
		t.Fatalf("cost %+v", s.ServerCost)
	}
	rep, p := runOnce(t, r, false)
	if len(p.Actions) != 0 || da.ZoneFetches() != 2 || rep.Servers[0].DNSUnchanged != 20 {
		t.Fatalf("second pass: actions %v, %d texts read, cost %+v", p.Actions, da.ZoneFetches(), rep.Servers[0].ServerCost)
	}
}

// TestUnusableDNSAnswerFallsBackToHTTP: an answer that is missing,
// REFUSED, SERVFAIL, not authoritative or without an SOA is never trusted,
// even when its serial equals the stored one: that zone's text is read
// over HTTP, and the zone repaired if DA has a newer one. A differing
// serial over DNS is checked against the text too.
func TestUnusableDNSAnswerFallsBackToHTTP(t *testing.T) {
	cases := []struct {
		name      string
		fault     fakeda.DNSFault
		dnsSerial uint32 // what DNS says, if set
		daSerial  uint32 // what the text says
		repaired  bool
		texts     int // texts of the zone read in the pass (the apply reuses it)
	}{
		{"no answer", fakeda.DNSDrop, 1, 2, true, 1},
		{"refused", fakeda.DNSRefused, 1, 2, true, 1},
		{"servfail", fakeda.DNSServFail, 1, 2, true, 1},
		{"not authoritative, stored serial", fakeda.DNSNotAA, 1, 2, true, 1},
		{"no SOA", fakeda.DNSNoSOA, 1, 2, true, 1},
		{"not authoritative, same text", fakeda.DNSNotAA, 0, 1, false, 1},
		{"wrong serial over DNS", fakeda.DNSOK, 9, 1, false, 1},
		{"older serial over DNS", fakeda.DNSOK, 7, 8, true, 1}, // stored 1: DNS 7 differs, text 8 is newer
		{"truncated: asked again over TCP", fakeda.DNSTruncate, 0, 1, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			da := fakeda.Start(t, fakeda.Options{})
			fillBoth(n, da, 6, "127.0.0.1")
			const name = "site3.example"
			da.AddLocal(name, "user", fakeda.Zone(name, tc.daSerial))
			da.SetDNSSerial(name, tc.dnsSerial)
			da.SetDNSFault(name, tc.fault)
			rep, _ := runOnce(t, n.reconciler(server(da, "127.0.0.1")), false)
			z, _ := n.get(name)
			if repaired := z.Serial == tc.daSerial && tc.daSerial != 1; repaired != tc.repaired || rep.Failed != 0 {
				t.Fatalf("stored serial %d (DA %d), want repaired=%v; report %+v", z.Serial, tc.daSerial, tc.repaired, rep)
			}
			if got := da.Fetches(name); got != tc.texts {
				t.Errorf("%s: text read %d times, want %d", name, got, tc.texts)
			}
			if got := da.ZoneFetches(); got != tc.texts {
				t.Errorf("%d texts read in all, want %d (only the zone DNS did not settle)", got, tc.texts)
			}
			if tc.fault == fakeda.DNSTruncate {
				if _, tcp := da.DNSQueries(); tcp != 1 {
					t.Errorf("%d questions over TCP after a truncated answer, want 1", tcp)
				}
			}
		})
	}
}

// TestDNSDownFallsBackToHTTP: with DA's DNS not answering at all, the
// pass gives up on DNS quickly and reads every text over HTTP, as without
// the DNS check, and still repairs.
func TestDNSDownFallsBackToHTTP(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 30, "127.0.0.1")
	da.AddLocal("site7.example", "user", fakeda.Zone("site7.example", 5))
	dead := fakeda.Start(t, fakeda.Options{})
	cfg := server(da, "127.0.0.1")
	cfg.DNSAddress = dead.DNSAddr()
	dead.Close()
	r := reconcile.New(context.Background(), reconcile.Options{
		Store: n.st, Push: n.svc, Servers: []config.DirectAdminServer{cfg}, IPP: 10,
		Timeout: 2 * time.Second, DNSTimeout: 200 * time.Millisecond, DNSParallel: 4, Logger: quiet()})
	rep, _ := runOnce(t, r, false)
	if z, _ := n.get("site7.example"); z.Serial != 5 || rep.Applied[reconcile.Fetch] != 1 {
		t.Fatalf("not repaired: serial %d, report %+v", z.Serial, rep)
	}
	s := rep.Servers[0]
	if s.DNSFallbacks != 30 || s.Texts != 30 || s.DNSError == "" || s.DNSQueries > 2*(8+4) {
		t.Fatalf("cost %+v", s.ServerCost)
	}
}

// TestPanelDownDNSUpDeletesNothing: DA's HTTP API down while its DNS
// answers: the server is unknown, nothing is deleted, nothing asked over DNS.
func TestPanelDownDNSUpDeletesNothing(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 4, "127.0.0.1")
	for i := range 8 {
		n.push(fmt.Sprintf("orphan%d.example", i), 1, "127.0.0.1")
	}
	r := reconcile.New(context.Background(), reconcile.Options{
		Store: n.st, Push: n.svc, Servers: []config.DirectAdminServer{server(da, "127.0.0.1")},
		MaxDeleteFraction: 1, Timeout: 300 * time.Millisecond, Logger: quiet()})
	da.CloseHTTP()
	rep, p := runOnce(t, r, false)
	if len(n.live()) != 12 || p.Count(reconcile.Delete) != 0 || rep.Unreachable != 1 {
		t.Fatalf("zones deleted with DA's API down: %d left, plan %v", len(n.live()), p.Actions)
	}
	if udp, tcp := da.DNSQueries(); udp+tcp != 0 {
		t.Fatalf("%d DNS questions for an unknown server", udp+tcp)
	}
}

// TestHTTPSerialCheck: serial_check http reads every held zone's text and
// asks no DNS.
func TestHTTPSerialCheck(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 10, "127.0.0.1")
	da.AddLocal("site2.example", "user", fakeda.Zone("site2.example", 3))
	cfg := server(da, "127.0.0.1")
	cfg.SerialCheck = config.SerialCheckHTTP
	rep, _ := runOnce(t, n.reconciler(cfg), false)
	if z, _ := n.get("site2.example"); z.Serial != 3 {
		t.Fatalf("not repaired: %+v", z)
	}
	s := rep.Servers[0]
	if s.SerialCheck != "http" || s.Texts != 10 || s.DNSQueries != 0 || da.ZoneFetches() != 10 {
		t.Fatalf("cost %+v, %d texts served", s.ServerCost, da.ZoneFetches())
	}
	if udp, tcp := da.DNSQueries(); udp+tcp != 0 {
		t.Fatalf("%d DNS questions with serial_check http", udp+tcp)
	}
}
