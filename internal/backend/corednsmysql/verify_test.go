package corednsmysql

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// TestVerifyReadsTheBatchAhead applies zones of every shape in one batch
// (the sample zones, the golden zone, DA-shaped zones): the digests
// MariaDB computes of their rows must equal those of the rows written
// (else every Verify would read its zone again alone). After a re-apply
// and drift of some zones behind dadns's back, the first Verify reads the
// whole batch in one query, and each zone's Verify still tells drifted
// rows from intact ones; a Verify repeated after more drift reads the
// zone again.
func TestVerifyReadsTheBatchAhead(t *testing.T) {
	f := newFixture(t)
	var zones []*zone.Zone
	for i := range 5 {
		zones = append(zones, backendtest.Zone(t, fmt.Sprintf("z%d.example", i), 1))
	}
	g, err := zone.Parse("golden.example", []byte(goldenZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	zones = append(zones, g)
	files, err := filepath.Glob(filepath.Join("testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample zones found in testdata/zones (%v)", err)
	}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		z, err := zone.Parse(zone.Name(strings.TrimSuffix(filepath.Base(file), ".db")), text, zone.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		zones = append(zones, z)
	}
	names := make([]zone.Name, len(zones))
	for i, z := range zones {
		names[i] = z.Name
	}
	if err := f.b.Apply(testCtx(t), zones); err != nil {
		t.Fatal(err)
	}
	same, err := f.b.sameRowsMany(testCtx(t), names)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !same[n] {
			t.Errorf("%s: the digest of the rows read back differs from that of the rows written", n)
		}
	}

	if err := f.b.Apply(testCtx(t), zones); err != nil {
		t.Fatal(err)
	}
	zid := func(n string) string { return "(SELECT id FROM zones WHERE zone_name = '" + n + "')" }
	f.exec(t,
		"UPDATE records SET data = '198.51.100.7' WHERE zone_id = "+zid("z1.example.")+" AND hostname = 'mail' AND type = 'A'",
		"UPDATE records SET online = 0 WHERE zone_id = "+zid("z2.example.")+" AND hostname = 'sip'",
		"DELETE FROM records WHERE zone_id = "+zid("z3.example."),
		"INSERT INTO records (zone_id, hostname, type, data, ttl, online) SELECT id, 'evil', 'A', '203.0.113.1', 60, 1 FROM zones WHERE zone_name = 'z4.example.'",
		"UPDATE records SET ttl = ttl + 1 WHERE zone_id = "+zid("golden.example.")+" AND type = 'SOA'")
	drifted := map[zone.Name]bool{"z1.example": true, "z2.example": true, "z3.example": true, "z4.example": true, "golden.example": true}
	for i, z := range zones {
		err := f.b.Verify(testCtx(t), z.Name, z.Hash())
		if drifted[z.Name] != errors.Is(err, backend.ErrMismatch) || (!drifted[z.Name] && err != nil) {
			t.Errorf("Verify(%s) = %v, drifted: %v", z.Name, err, drifted[z.Name])
		}
		if i == 0 && f.b.ahead.Verdicts() != len(zones)-1 {
			t.Errorf("the first Verify kept %d verdicts, want one for each other zone of the batch (%d)", f.b.ahead.Verdicts(), len(zones)-1)
		}
	}
	f.exec(t, "UPDATE records SET ttl = 7 WHERE zone_id = "+zid("z0.example.")+" AND type = 'SOA'")
	if err := f.b.Verify(testCtx(t), "z0.example", zones[0].Hash()); !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("Verify after drift of a zone verified before = %v, want a mismatch", err)
	}
}
