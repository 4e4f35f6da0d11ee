package bind

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

func parse(t *testing.T, body string) *zone.Zone {
	t.Helper()
	z, err := zone.Parse("safe.example", []byte("$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n"+body), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestSafe lists which zones reach named without a check run.
func TestSafe(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"in-zone name servers with addresses", "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 AAAA 2001:db8::2\n@ MX 10 mail\nmail A 192.0.2.3\nwww CNAME @\n@ TXT \"v=spf1 -all\"\n_sip._tcp SRV 0 5 5060 sip\nsip A 192.0.2.4\n@ CAA 0 issue \"ca.example\"\n", true},
		{"out-of-zone name servers", "@ NS ns1.elsewhere.example.\n@ MX 10 mx.elsewhere.example.\n", true},
		{"upper-case target", "@ NS NS1\nns1 A 192.0.2.1\n", true},
		{"name server without address", "@ NS ns1\nwww A 192.0.2.1\n", false},
		{"name server is a CNAME", "@ NS ns1\nns1 CNAME www\nwww A 192.0.2.1\n", false},
		{"name server only under a wildcard", "@ NS ns1\n* A 192.0.2.1\n", false},
		{"MX without address", "@ NS ns1.elsewhere.example.\n@ MX 10 mail\n", false},
		{"SRV without address", "@ NS ns1.elsewhere.example.\n_x._tcp SRV 0 0 1 sip\n", false},
		{"delegation", "@ NS ns1.elsewhere.example.\nsub NS ns1.elsewhere.example.\n", false},
		{"DNAME", "@ NS ns1.elsewhere.example.\nold DNAME new.example.\n", false},
		{"TLSA", "@ NS ns1.elsewhere.example.\n_443._tcp TLSA 3 1 1 " + strings.Repeat("ab", 32) + "\n", false},
		{"CAA tag with a dash", "@ NS ns1.elsewhere.example.\n@ CAA 0 is-sue \"ca.example\"\n", false},
	} {
		if got := safe(parse(t, tc.body)); got != tc.want {
			t.Errorf("%s: safe = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !safe(backendtest.Zone(t, "da.example", 1)) {
		t.Error("the conformance suite's DirectAdmin-shaped zone is not safe")
	}
}

// TestSafeZonesSkipCheck: a batch of safe zones runs no named-checkconf
// (its check configuration would be written into zones_dir), strict zone
// options check every zone, and a zone the check would refuse is still
// refused before named sees it.
func TestSafeZonesSkipCheck(t *testing.T) {
	r := newRig(t, false)
	ctx := testCtx(t)
	for _, strict := range []bool{false, true} {
		opt := r.options(false)
		opt.CheckConf = "/bin/false" // any run fails the batch: the check must not run
		opt.CheckZone = ""
		if strict {
			opt.CheckNames = "warn"
		}
		b, err := New(opt)
		if err != nil {
			t.Fatal(err)
		}
		good := zones(t, "safe", 3, 1+btoi(strict))
		err = b.Apply(ctx, good)
		if strict {
			if err == nil {
				t.Fatal("strict options: named-checkconf did not run")
			}
			continue
		}
		if err != nil {
			t.Fatalf("safe zones ran the check: %v", err)
		}
		mustVerify(t, b, good)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestUncheckedRefusalExplained: a zone named refuses that reached it
// unchecked (as if safe had let it through) fails Verify permanently
// with named's reason, and the rest of its batch is served.
func TestUncheckedRefusalExplained(t *testing.T) {
	safeZone = func(*zone.Zone) bool { return true }
	t.Cleanup(func() { safeZone = safe })
	r := newRig(t, false)
	opt := r.options(false)
	opt.VerifyTimeout = 2 * time.Second
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	good := zones(t, "ok", 2, 1)
	if err := b.Apply(ctx, append(good, unloadable(t, "bad.example"))); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, good)
	err = b.Verify(ctx, "bad.example", unloadable(t, "bad.example").Hash())
	if !errors.Is(err, backend.ErrPermanent) || !strings.Contains(err.Error(), "no address records") {
		t.Fatalf("verify of a zone named refused: %v; want a permanent error with named's reason", err)
	}
}
