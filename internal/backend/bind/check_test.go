package bind

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// unloadable is a zone dadns accepts but named refuses: its in-zone name
// server has no address.
func unloadable(t *testing.T, name string) *zone.Zone {
	z, err := zone.Parse(zone.Name(name), []byte("$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nwww A 192.0.2.1\n"), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestBadZoneFailsAlone applies a batch holding a zone named would not
// load: that zone fails permanently with named's reason and never reaches
// the include; the others are served; a good version of a served zone is
// not replaced by a bad one.
func TestBadZoneFailsAlone(t *testing.T) {
	for _, tc := range []struct {
		name      string
		checkConf string
	}{{"named-checkconf", "named-checkconf"}, {"named-checkzone only", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, true)
			opt := r.options(true)
			opt.CheckConf = tc.checkConf
			b, err := New(opt)
			if err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)
			good := zones(t, "ok", 3, 1)
			kept := backendtest.Zone(t, "kept.example", 1)
			if err := b.Apply(ctx, []*zone.Zone{kept}); err != nil {
				t.Fatal(err)
			}
			batch := append(good, unloadable(t, "bad.example"), unloadable(t, "kept.example"))
			named, rest := backend.PerZone(b.Apply(ctx, batch))
			if rest != nil || len(named) != 2 {
				t.Fatalf("zone errors %v, rest %v; want bad.example and kept.example", named, rest)
			}
			for _, n := range []zone.Name{"bad.example", "kept.example"} {
				if e := named[n]; !errors.Is(e, backend.ErrPermanent) || !strings.Contains(e.Error(), "no address records") {
					t.Errorf("%s: %v; want a permanent error with named's reason", n, e)
				}
			}
			mustVerify(t, b, append(good, kept))
			inc, _ := os.ReadFile(r.include)
			if strings.Contains(string(inc), "bad.example") {
				t.Error("the refused zone is in the include")
			}
			if _, err := os.Stat(r.zones + "/bad.example.db"); err == nil {
				t.Error("the refused zone's file was installed")
			}
		})
	}
}
