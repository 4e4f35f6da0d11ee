package knot

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// TestRestartKnowsItsZones builds a second backend on the same files, as
// after a restart of dadns: it lists the zones, verifies them from their
// files, and a delete through it reaches knotd.
func TestRestartKnowsItsZones(t *testing.T) {
	r := newRig(t, knottest.Options{})
	ctx := testCtx(t)
	zs := zones(t, "keep", 3, 9)
	first := r.backend(t, false)
	if err := first.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	// knotd loads new zones in the background; the first backend waits
	// for that (the second, like a restarted dadns, asks only once).
	mustVerify(t, first, zs)
	b := r.backend(t, false)
	names, err := b.Zones(ctx)
	if err != nil || !slices.Equal(names, []zone.Name{"keep000.example", "keep001.example", "keep002.example"}) {
		t.Fatalf("Zones after restart = %v, %v", names, err)
	}
	mustVerify(t, b, zs)
	if err := b.Verify(ctx, zs[0].Name, zones(t, "keep", 1, 10)[0].Hash()); err == nil {
		t.Fatal("Verify accepted a hash the zone file does not hold")
	}
	if err := b.Delete(ctx, names[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.soaSerial(ctx, names[0]); err == nil {
		t.Fatal("deleted zone still served")
	}
}

// TestDrift plants files dadns did not write and edits one it did: they
// are reported, nothing is changed by looking; an unknown file goes when
// its zone is deleted through dadns.
func TestDrift(t *testing.T) {
	r := newRig(t, knottest.Options{})
	ctx := testCtx(t)
	b := r.backend(t, false)
	zs := zones(t, "d", 3, 1)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(r.zones, "stray.example.zone")
	for p, data := range map[string][]byte{
		stray: []byte("; hand-made\n"),
		filepath.Join(r.zones, "d001.example.zone"): append(mustFileText(t, zs[1]), "www.d001.example. 60 IN A 192.0.2.99\n"...),
	} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(r.zones, "d002.example.zone")); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, r.dir)
	d := b.Drift()
	if !slices.Equal(d.Stray, []zone.Name{"stray.example"}) || !slices.Equal(d.Modified, []zone.Name{"d001.example"}) ||
		!slices.Equal(d.Missing, []zone.Name{"d002.example"}) {
		t.Fatalf("drift = %+v", d)
	}
	if _, err := b.Zones(ctx); err != nil {
		t.Fatal(err)
	}
	if after := listTree(t, r.dir); len(after) != len(before) {
		t.Fatalf("looking for drift changed files: %v -> %v", before, after)
	}
	if err := b.Delete(ctx, []zone.Name{"stray.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatal("deleting the zone left its file")
	}
	if d := b.Drift(); len(d.Stray) != 0 {
		t.Fatalf("after delete: %+v", d)
	}
}

// TestKnotRestartForgets: knotd restarted from its text configuration
// forgets the zones added at run time; a dadns starting then gives them
// back at once.
func TestKnotRestartForgets(t *testing.T) {
	r := newRig(t, knottest.Options{})
	ctx := testCtx(t)
	zs := zones(t, "back", 3, 4)
	if err := r.backend(t, false).Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	r.knot.Stop()
	r.knot.Restart(t)
	if conf, _ := r.knot.KnotcOutput("conf-read", "zone.domain"); strings.Contains(conf, "back000") {
		t.Fatalf("knotd kept run-time zones over a restart: %s", conf)
	}
	b := r.backend(t, false)
	b.settle = time.Now().Add(20 * time.Second)
	mustVerify(t, b, zs)
}

// TestKnotRestartWhileTrusted: knotd restarts (forgetting the run-time
// zones) while dadns still trusts the zone list it read: the next change
// finds the zone gone, reads the list again and gives knotd every zone it
// lacks, with no error.
func TestKnotRestartWhileTrusted(t *testing.T) {
	r := newRig(t, knottest.Options{})
	ctx := testCtx(t)
	b := r.backend(t, false)
	b.confFresh = time.Hour
	zs := zones(t, "trust", 3, 1)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zs)
	r.knot.Stop()
	r.knot.Restart(t)
	changed := zones(t, "trust", 1, 2)
	if err := b.Apply(ctx, changed); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, append(changed, zs[1:]...))
}

// TestRepairGivesZonesBack: knotd restarted from its text knot.conf while
// no zone changed; Repair (the dispatcher's idle step) gives knotd every
// zone back, and with nothing missing it changes nothing.
func TestRepairGivesZonesBack(t *testing.T) {
	r := newRig(t, knottest.Options{})
	ctx := testCtx(t)
	b := r.backend(t, false)
	zs := zones(t, "rep", 3, 1)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	r.knot.Stop()
	r.knot.Restart(t)
	if err := b.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	b.settle = time.Now().Add(20 * time.Second)
	mustVerify(t, b, zs)
	r.calls(t)
	if err := b.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	if got := actions(r.calls(t)); !slices.Equal(got, []string{"conf-read zone.domain"}) {
		t.Fatalf("Repair with nothing missing ran knotc %q", got)
	}
}

func mustFileText(t *testing.T, z *zone.Zone) []byte {
	t.Helper()
	b, err := fileText(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
