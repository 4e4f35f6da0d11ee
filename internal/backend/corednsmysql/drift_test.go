package corednsmysql

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
	"github.com/dadns/dadns/internal/zone"
)

// TestVerifyRepairsDrift tampers with the rows behind the backend (an
// extra row, a changed row, a hidden row, a duplicate) and checks Verify
// puts them back, says so in the log, and keeps the zone's id.
func TestVerifyRepairsDrift(t *testing.T) {
	var logs syncbuf.Buffer
	f := newFixtureOn(t, server(t), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	z := backendtest.Zone(t, "drift.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	want := f.rows(t, "drift.example.")
	id := f.count(t, "SELECT id FROM zones WHERE zone_name = 'drift.example.'")
	f.exec(t,
		"INSERT INTO records (zone_id, hostname, type, data, ttl, online) SELECT id, 'evil', 'A', '203.0.113.1', 60, 1 FROM zones WHERE zone_name = 'drift.example.'",
		"UPDATE records SET data = '198.51.100.7' WHERE hostname = 'mail' AND type = 'A'",
		"UPDATE records SET online = 0 WHERE hostname = 'sip'",
		"INSERT INTO records (zone_id, hostname, type, data, ttl, online) SELECT zone_id, hostname, type, data, ttl, online FROM records WHERE hostname = 'ns1'",
	)
	if _, err := f.b.Zone(testCtx(t), z.Name); !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("Zone() on drifted rows: %v, want a mismatch", err)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatalf("Verify did not repair: %v", err)
	}
	if d := diffLines(f.rows(t, "drift.example."), want); d != "" {
		t.Fatalf("rows after repair:\n%s", d)
	}
	if got := f.count(t, "SELECT id FROM zones WHERE zone_name = 'drift.example.'"); got != id {
		t.Fatalf("zone id changed from %d to %d", id, got)
	}
	if !strings.Contains(logs.String(), "drifted") || !strings.Contains(logs.String(), "zone=drift.example") {
		t.Fatalf("no drift log line:\n%s", logs.String())
	}
}

// TestApplyIsADiff checks that re-applying writes nothing, that a change
// touches only the rows that changed, and that the zone keeps its id.
func TestApplyIsADiff(t *testing.T) {
	f := newFixture(t)
	z1 := backendtest.Zone(t, "diff.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z1}); err != nil {
		t.Fatal(err)
	}
	ids := func() map[string]int {
		out := map[string]int{}
		rs, err := f.root.Query("SELECT id, hostname, type, data FROM records")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id int
			var h, ty, d string
			_ = rs.Scan(&id, &h, &ty, &d)
			out[h+" "+ty+" "+d] = id
		}
		return out
	}
	before := ids()
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z1}); err != nil {
		t.Fatal(err)
	}
	z2 := backendtest.Zone(t, "diff.example", 2) // SOA serial and one TXT change
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z2}); err != nil {
		t.Fatal(err)
	}
	after := ids()
	changed := 0
	for k, id := range after {
		if before[k] != id {
			changed++
		}
	}
	if changed != 2 || len(after) != len(before) {
		t.Fatalf("%d rows rewritten (of %d), want 2 (SOA and serial TXT)", changed, len(after))
	}
	if n := f.count(t, "SELECT MAX(id) FROM zones"); n != 1 {
		t.Fatalf("zone id %d after re-applies, want 1", n)
	}
}

// TestDeleteRemovesRowsThenZone checks deletes leave no rows behind.
func TestDeleteRemovesRowsThenZone(t *testing.T) {
	f := newFixture(t)
	a, b := backendtest.Zone(t, "a.example", 1), backendtest.Zone(t, "b.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Delete(testCtx(t), []zone.Name{a.Name, "absent.example"}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM records r JOIN zones z ON z.id = r.zone_id WHERE z.zone_name = 'a.example.'"); n != 0 {
		t.Fatalf("%d rows left", n)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM zones"); n != 1 {
		t.Fatalf("%d zones rows, want 1", n)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM records"); n != len(b.Records) {
		t.Fatalf("%d records rows, want %d", n, len(b.Records))
	}
}
