package knot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// unloadable is a zone dadns accepts but knotd refuses: a name below a
// DNAME holds data.
func unloadable(t *testing.T, name string) *zone.Zone {
	z, err := zone.Parse(zone.Name(name), []byte("$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nd DNAME x.example.\nx.d A 192.0.2.2\n"), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestBadZoneFailsAlone applies a batch holding zones knotd would not
// load: they fail permanently with knotd's reason and never reach knotd's
// configuration or zones_dir; the others are served; a good version of a
// served zone is not replaced by a bad one.
func TestBadZoneFailsAlone(t *testing.T) {
	r := newRig(t, knottest.Options{AllowTransfer: true})
	b := r.backend(t, true)
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
		e := named[n]
		if !errors.Is(e, backend.ErrPermanent) || !strings.Contains(e.Error(), "child record exists under DNAME") {
			t.Errorf("%s: %v; want a permanent error with knotd's reason", n, e)
		}
		if strings.Contains(e.Error(), r.zones) {
			t.Errorf("%s: error names a temporary file: %v", n, e)
		}
	}
	mustVerify(t, b, append(good, kept))
	for _, z := range append(good, kept) {
		got, err := b.Zone(ctx, z.Name)
		if err != nil || got.Hash() != z.Hash() {
			t.Fatalf("%s serves %v, %v", z.Name, got, err)
		}
	}
	conf, err := r.knot.KnotcOutput("conf-read", "zone.domain")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(conf, "bad.example") {
		t.Error("the refused zone is in knotd's configuration")
	}
	if _, err := os.Stat(filepath.Join(r.zones, "bad.example.zone")); err == nil {
		t.Error("the refused zone's file was installed")
	}
	if z, err := readZone("kept.example", filepath.Join(r.zones, "kept.example.zone")); err != nil || z.Hash() != kept.Hash() {
		t.Errorf("kept.example's file is not the version knotd serves: %v", err)
	}
	if d := b.Drift(); len(d.Modified)+len(d.Missing)+len(d.Stray) > 0 {
		t.Errorf("drift after the refusal: %+v", d)
	}
	if left, _ := filepath.Glob(filepath.Join(r.zones, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
