package powerdns

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// TestVerifyReadsTheBatchAhead applies zones of every shape in one batch:
// the digests MariaDB computes of their rows must equal those of the rows
// written (else every Verify would read its zone again alone). After a
// re-apply and drift of some zones behind dadns's back, the first Verify
// reads the whole batch in one query, and each zone's Verify still tells
// drifted rows from intact ones; a Verify repeated after more drift reads
// the zone again.
func TestVerifyReadsTheBatchAhead(t *testing.T) {
	f := newFixture(t)
	var zones []*zone.Zone
	for i := range 5 {
		zones = append(zones, backendtest.Zone(t, fmt.Sprintf("z%d.example", i), 1))
	}
	for name, text := range map[zone.Name]string{"types.example": typesZone, "golden.example": goldenZone} {
		z, err := zone.Parse(name, []byte(text), zone.Limits{})
		if err != nil {
			t.Fatal(err)
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
	f.exec(t,
		"UPDATE records SET content = '198.51.100.7' WHERE name = 'mail.z1.example' AND type = 'A'",
		"UPDATE records SET disabled = 1 WHERE name = 'sip.z2.example'",
		"DELETE FROM records WHERE domain_id = (SELECT id FROM domains WHERE name = 'z3.example')",
		"INSERT INTO records (domain_id, name, type, content, ttl, prio, auth) SELECT id, 'evil.z4.example', 'A', '203.0.113.1', 60, 0, 1 FROM domains WHERE name = 'z4.example'",
		"UPDATE records SET auth = 1 - auth WHERE name = 'dyn.golden.example'")
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
	f.exec(t, "UPDATE records SET ttl = 7 WHERE name = 'z0.example' AND type = 'SOA'")
	if err := f.b.Verify(testCtx(t), "z0.example", zones[0].Hash()); !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("Verify after drift of a zone verified before = %v, want a mismatch", err)
	}
}
