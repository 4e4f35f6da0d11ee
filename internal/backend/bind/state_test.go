package bind

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// TestRestartKnowsItsZones builds a second backend on the same files, as
// after a restart of dadns: it lists the zones, verifies them from their
// files, and a delete through it reaches named.
func TestRestartKnowsItsZones(t *testing.T) {
	r := newRig(t, false)
	ctx := testCtx(t)
	zs := zones(t, "keep", 3, 9)
	if err := r.backend(t, false).Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
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

// TestDrift plants files and include lines dadns did not write: they are
// reported; reads (Drift, Zones) remove nothing; Repair removes a file
// dadns wrote for a zone it no longer holds; an unknown file is left alone
// until its zone is deleted.
func TestDrift(t *testing.T) {
	r := newRig(t, false)
	ctx := testCtx(t)
	b := r.backend(t, false)
	zs := zones(t, "d", 3, 1)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	inc, _ := os.ReadFile(r.include)
	if err := os.WriteFile(r.include, append(inc, "zone \"hand.example\" { type primary; file \"/x\"; allow-update { any; }; };\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	b = r.backend(t, false) // reads the include again
	g := zones(t, "gone", 1, 1)[0]
	leftover := filepath.Join(r.zones, string(g.Name)+".db")
	stray := filepath.Join(r.zones, "stray.example.db")
	for p, data := range map[string][]byte{
		leftover: fileText(g),
		stray:    []byte("; hand-made\n"),
		filepath.Join(r.zones, "d001.example.db"): []byte("; edited\n"),
	} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(r.zones, "d002.example.db")); err != nil {
		t.Fatal(err)
	}
	d := b.Drift()
	if !slices.Equal(d.Leftover, []zone.Name{g.Name}) || !slices.Equal(d.Stray, []zone.Name{"stray.example"}) ||
		!slices.Equal(d.Modified, []zone.Name{"d001.example"}) || !slices.Equal(d.Missing, []zone.Name{"d002.example"}) ||
		len(d.Foreign) != 1 {
		t.Fatalf("drift = %+v", d)
	}
	if _, err := b.Zones(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Fatalf("a read removed the leftover file: %v", err)
	}
	if err := b.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatal("leftover file not removed by Repair")
	}
	if _, err := os.Stat(stray); err != nil {
		t.Fatal("a file dadns did not write was removed before its zone was deleted")
	}
	if err := b.Delete(ctx, []zone.Name{"stray.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatal("deleting the zone left its file")
	}
	if d := b.Drift(); len(d.Stray)+len(d.Leftover) != 0 || len(d.Modified) != 1 {
		t.Fatalf("after delete: %+v", d)
	}
}

func TestIncludeRoundTrip(t *testing.T) {
	zs := map[zone.Name]entry{
		"b.example": {file: "/z/b.example.db"},
		"a.example": {file: "/z/a.example.db"},
	}
	opts := zoneOptions{text: " check-names ignore; max-records-per-type 0;"}
	data := renderInclude(zs, opts)
	want := includeHeader + "zone \"a.example\" { type primary; file \"/z/a.example.db\"; check-names ignore; max-records-per-type 0; };\n" +
		"zone \"b.example\" { type primary; file \"/z/b.example.db\"; check-names ignore; max-records-per-type 0; };\n"
	if string(data) != want {
		t.Fatalf("include:\n%s", data)
	}
	extra := "zone \"c.example\" { type master; file \"c\"; };\n" +
		"zone \"../x\" { type primary; file \"/z/x.db\"; };\n" +
		"zone \"rel.example\" { type primary; file \"rel.db\"; };\n// comment\n\n"
	got, foreign, stale := parseInclude(append(data, extra...), opts)
	if len(got) != 2 || got["a.example"].file != "/z/a.example.db" || len(foreign) != 3 || stale {
		t.Fatalf("parse: %v, foreign %q, stale %v", got, foreign, stale)
	}
	if _, _, stale := parseInclude(data, zoneOptions{text: " check-names warn;"}); !stale {
		t.Fatal("statements with other zone options not seen as stale")
	}
}
