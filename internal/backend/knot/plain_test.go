package knot

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

func parsePlain(t *testing.T, body string) *zone.Zone {
	t.Helper()
	z, err := zone.Parse("plain.example", []byte("$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"+body), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestPlain lists which new zones reach knotd without a zone-check run.
func TestPlain(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"DirectAdmin-like", "@ MX 10 mail\nmail A 192.0.2.3\nwww CNAME @\n@ TXT \"v=spf1 -all\"\n_sip._tcp SRV 0 5 5060 sip\nsip AAAA 2001:db8::1\n@ CAA 0 issue \"ca.example\"\n1 PTR host.example.\n", true},
		{"name server without address", "@ NS ns2\n", true}, // knotd's mandatory checks allow it
		{"delegation", "sub NS ns1.elsewhere.example.\n", false},
		{"DNAME", "old DNAME new.example.\n", false},
		{"TLSA", "_443._tcp TLSA 3 1 1 " + strings.Repeat("ab", 32) + "\n", false},
		{"CAA tag with a dash", "@ CAA 0 is-sue \"ca.example\"\n", false},
	} {
		if got := plain(parsePlain(t, tc.body)); got != tc.want {
			t.Errorf("%s: plain = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !plain(backendtest.Zone(t, "da.example", 1)) {
		t.Error("the conformance suite's DirectAdmin-shaped zone is not plain")
	}
	if plain(unloadable(t, "bad.example")) {
		t.Error("the zone knotd refuses is plain")
	}
}

// TestUncheckedRefusalExplained: a new zone knotd refuses that reached it
// unchecked (as if plain had let it through) fails Verify permanently with
// knotd's reason, and the rest of its batch is served.
func TestUncheckedRefusalExplained(t *testing.T) {
	plainZone = func(*zone.Zone) bool { return true }
	t.Cleanup(func() { plainZone = plain })
	r := newRig(t, knottest.Options{})
	opt := r.options(false)
	opt.VerifyTimeout = 2 * time.Second
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	good := zones(t, "ok", 2, 1)
	bad := unloadable(t, "bad.example")
	if err := b.Apply(ctx, append(good, bad)); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, good)
	err = b.Verify(ctx, bad.Name, bad.Hash())
	if !errors.Is(err, backend.ErrPermanent) || !strings.Contains(err.Error(), "child record exists under DNAME") {
		t.Fatalf("verify of a zone knotd refused: %v; want a permanent error with knotd's reason", err)
	}
}
