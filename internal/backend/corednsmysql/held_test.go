package corednsmysql

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// TestHeldRoundTrip checks that what held keeps of a written zone gives
// back the same rows, in order, and the digest Verify would have computed
// from them, for the golden zone, every record form and the sample zones.
func TestHeldRoundTrip(t *testing.T) {
	var zones []*zone.Zone
	g, err := zone.Parse("golden.example", []byte(goldenZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	zones = append(zones, g)
	forms, err := os.ReadFile("../../dnsserver/testdata/zones/forms.test.db")
	if err != nil {
		t.Fatal(err)
	}
	f, err := zone.Parse("forms.test", forms, zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Records[2:] { // one zone per form, as the plugin refuses some
		one, err := zone.Build(f.Name, []zone.Record{f.Records[0], f.Records[1], r}, zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, one)
	}
	files, _ := filepath.Glob("testdata/zones/*.db")
	if len(files) == 0 {
		t.Fatal("no sample zones in testdata/zones")
	}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		z, err := zone.Parse(zone.Name(filepath.Base(file[:len(file)-len(".db")])), text, zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, z)
	}
	held := 0
	for _, z := range zones {
		s, err := Stored(z)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := rowsOf(s, defaultLimits)
		if err != nil {
			continue // a form the plugin cannot serve: never written, never held
		}
		held++
		p := planned{z: s, name: s.Name, hash: s.Hash(), rows: rows, lim: defaultLimits}
		h := holdOf(p, true)
		if again := holdOf(planned{name: p.name, hash: p.hash, rows: slices.Clone(rows), lim: p.lim}, true); again.packed != h.packed {
			t.Errorf("%s: two instances holding the same rows keep two copies", z.Name)
		}
		back := h.planned(s.Name)
		if back.name != p.name || back.hash != p.hash || back.lim != p.lim || back.z != nil {
			t.Errorf("%s: held gives %+v, want name %s hash %s", z.Name, back, p.name, p.hash)
		}
		if !slices.Equal(back.rows, rows) {
			t.Errorf("%s: rows differ after packing:\n got %v\nwant %v", z.Name, back.rows, rows)
		}
		var r mysqldb.DigestRow
		d, ok := digest(&r, rows)
		if h.digest != d || h.sure != ok {
			t.Errorf("%s: held digest %v (%v), want %v (%v)", z.Name, h.digest, h.sure, d, ok)
		}
	}
	if held < len(files)+10 {
		t.Fatalf("only %d of %d zones had rows the plugin serves", held, len(zones))
	}
}

// TestPackRowsEdges covers empty fields, long data and TTLs of every size.
func TestPackRowsEdges(t *testing.T) {
	long := string(make([]byte, 70000))
	rows := []row{
		{host: "@", typ: "A", data: "192.0.2.1", ttl: 0},
		{host: "", typ: "", data: "", ttl: -1},
		{host: "www", typ: "TXT", data: long, ttl: 2147483647},
		{host: "x.y", typ: "TYPE65534", data: "\\# 0", ttl: 1 << 40},
	}
	if got := unpackRows(packRows(rows)); !slices.Equal(got, rows) {
		t.Fatalf("round trip changed the rows: %v", got)
	}
	if got := unpackRows(packRows(nil)); len(got) != 0 {
		t.Fatalf("no rows gave %v", got)
	}
}
