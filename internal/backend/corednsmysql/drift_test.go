package corednsmysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
	"github.com/dadns/dadns/internal/zone"
)

// tamper changes a zone's rows behind the backend: an extra row, a
// changed row, a hidden row and a duplicate.
func (f *fixture) tamper(t *testing.T, fqdn string) {
	t.Helper()
	f.exec(t,
		"INSERT INTO records (zone_id, hostname, type, data, ttl, online) SELECT id, 'evil', 'A', '203.0.113.1', 60, 1 FROM zones WHERE zone_name = '"+fqdn+"'",
		"UPDATE records r JOIN zones z ON z.id = r.zone_id SET r.data = '198.51.100.7' WHERE z.zone_name = '"+fqdn+"' AND r.hostname = 'mail' AND r.type = 'A'",
		"UPDATE records r JOIN zones z ON z.id = r.zone_id SET r.online = 0 WHERE z.zone_name = '"+fqdn+"' AND r.hostname = 'sip'",
		"INSERT INTO records (zone_id, hostname, type, data, ttl, online) SELECT r.zone_id, r.hostname, r.type, r.data, r.ttl, r.online FROM records r JOIN zones z ON z.id = r.zone_id WHERE z.zone_name = '"+fqdn+"' AND r.hostname = 'ns1'",
	)
}

// rowsWithIDs returns every records row as "id|zone_id|hostname|type|data|ttl|online", sorted.
func (f *fixture) rowsWithIDs(t *testing.T) []string {
	t.Helper()
	rs, err := f.root.Query("SELECT id, zone_id, hostname, type, data, ttl, online FROM records ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id, zid, ttl, on int64
		var h, ty, d string
		if err := rs.Scan(&id, &zid, &h, &ty, &d, &ttl, &on); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d|%d|%s|%s|%s|%d|%d", id, zid, h, ty, d, ttl, on))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyReportsDriftChangesNothing tampers with the rows behind the
// backend and checks that Verify and Zone report the mismatch, saying
// what differs, and leave every row as it is.
// Both ways of keeping what was written (heldModes).
func TestVerifyReportsDriftChangesNothing(t *testing.T) {
	for _, mode := range heldModes {
		t.Run(mode, func(t *testing.T) { verifyReportsDrift(t, mode) })
	}
}

func verifyReportsDrift(t *testing.T, mode string) {
	var logs syncbuf.Buffer
	f := newFixtureOn(t, server(t), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	z := backendtest.Zone(t, "drift.example", 1)
	f.desire(t, mode, z)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	f.checkKept(t, mode, z.Name)
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatalf("Verify of untouched rows: %v", err)
	}
	f.tamper(t, "drift.example.")
	before := f.rowsWithIDs(t)
	if _, err := f.b.Zone(testCtx(t), z.Name); !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("Zone() on drifted rows: %v, want a mismatch", err)
	}
	err := f.b.Verify(testCtx(t), z.Name, z.Hash())
	if !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("Verify on drifted rows: %v, want ErrMismatch", err)
	}
	for _, want := range []string{"2 rows not written by dadns (evil A, mail A)", "2 rows missing (mail A, sip A)", "1 rows hidden (online is not 1) (sip A)", "1 rows duplicated (ns1 A)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Verify error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "203.0.113.1") {
		t.Errorf("Verify error carries record data: %v", err)
	}
	if d := diffLines(f.rowsWithIDs(t), before); d != "" {
		t.Fatalf("Verify changed rows:\n%s", d)
	}
	if logs.String() != "" {
		t.Fatalf("Verify logged:\n%s", logs.String())
	}
}

// TestRepairFixesDrift: Repair rewrites the drifted rows of a zone it
// wrote (keeping the zone's id), restores a zone whose rows were all
// removed, removes a zone it deleted that came back and rows without a
// zones row, with one log line each; a second Repair finds nothing.
// Both ways of keeping what was written (heldModes).
func TestRepairFixesDrift(t *testing.T) {
	for _, mode := range heldModes {
		t.Run(mode, func(t *testing.T) { repairFixesDrift(t, mode) })
	}
}

func repairFixesDrift(t *testing.T, mode string) {
	var logs syncbuf.Buffer
	f := newFixtureOn(t, server(t), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	a, b, c, d := backendtest.Zone(t, "a.example", 1), backendtest.Zone(t, "b.example", 1),
		backendtest.Zone(t, "c.example", 1), backendtest.Zone(t, "d.example", 1)
	f.desire(t, mode, a, b, c) // d is deleted below: no longer stored
	if err := f.b.Apply(testCtx(t), []*zone.Zone{a, b, c, d}); err != nil {
		t.Fatal(err)
	}
	f.checkKept(t, mode, a.Name, b.Name, c.Name)
	if err := f.b.Delete(testCtx(t), []zone.Name{d.Name}); err != nil {
		t.Fatal(err)
	}
	wantA, wantB, wantC := f.rows(t, "a.example."), f.rows(t, "b.example."), f.rows(t, "c.example.")
	idA := f.count(t, "SELECT id FROM zones WHERE zone_name = 'a.example.'")
	f.tamper(t, "a.example.")
	f.exec(t,
		"DELETE r FROM records r JOIN zones z ON z.id = r.zone_id WHERE z.zone_name = 'b.example.'",
		"DELETE FROM zones WHERE zone_name = 'b.example.'",
		"INSERT INTO zones (zone_name) VALUES ('d.example.')",
		"INSERT INTO records (zone_id, hostname, type, data, ttl, online) SELECT id, '@', 'A', '192.0.2.9', 60, 1 FROM zones WHERE zone_name = 'd.example.'",
	)
	// Rows of no zone: possible on tables without the foreign key.
	conn, err := f.root.Conn(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET foreign_key_checks = 0",
		"INSERT INTO records (zone_id, hostname, type, data, ttl, online) VALUES (9999, 'www', 'A', '192.0.2.1', 60, 1), (9999, 'ftp', 'A', '192.0.2.2', 60, 1)",
		"SET foreign_key_checks = 1"} {
		if _, err := conn.ExecContext(testCtx(t), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	untouchedC := f.rowsWithIDs(t)

	if err := f.b.Repair(testCtx(t)); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	if diff := diffLines(f.rows(t, "a.example."), wantA); diff != "" {
		t.Errorf("a.example rows after repair:\n%s", diff)
	}
	if got := f.count(t, "SELECT id FROM zones WHERE zone_name = 'a.example.'"); got != idA {
		t.Errorf("a.example id changed from %d to %d", idA, got)
	}
	if diff := diffLines(f.rows(t, "b.example."), wantB); diff != "" {
		t.Errorf("b.example rows after repair:\n%s", diff)
	}
	if diff := diffLines(f.rows(t, "c.example."), wantC); diff != "" {
		t.Errorf("c.example rows after repair:\n%s", diff)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM zones WHERE zone_name = 'd.example.'"); n != 0 {
		t.Errorf("d.example (deleted by dadns, then put back) still has %d zones rows", n)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM records WHERE zone_id = 9999"); n != 0 {
		t.Errorf("%d rows without a zones row left", n)
	}
	for _, z := range []*zone.Zone{a, b, c} {
		if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
			t.Errorf("Verify(%s) after repair: %v", z.Name, err)
		}
	}
	// c.example was not touched: none of its rows was rewritten.
	cID := f.count(t, "SELECT id FROM zones WHERE zone_name = 'c.example.'")
	var cBefore []string
	for _, l := range untouchedC {
		if strings.HasPrefix(l[strings.Index(l, "|")+1:], fmt.Sprint(cID)+"|") {
			cBefore = append(cBefore, l)
		}
	}
	var cAfter []string
	for _, l := range f.rowsWithIDs(t) {
		if strings.HasPrefix(l[strings.Index(l, "|")+1:], fmt.Sprint(cID)+"|") {
			cAfter = append(cAfter, l)
		}
	}
	if diff := diffLines(cAfter, cBefore); diff != "" || len(cBefore) == 0 {
		t.Errorf("c.example rows rewritten (%d before):\n%s", len(cBefore), diff)
	}
	out := logs.String()
	for _, want := range []string{
		"drifted from the applied zone; repaired\" zone=a.example",
		"drifted from the applied zone; repaired\" zone=b.example drift=\"the zones row is missing\"",
		"back in the database; removed\" zone=d.example",
		"without a zones row; removed\" zone_id=9999 deleted_rows=2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no log line with %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("%d log lines, want 4:\n%s", n, out)
	}
	mark := len(out)
	before := f.rowsWithIDs(t)
	if err := f.b.Repair(testCtx(t)); err != nil {
		t.Fatalf("second Repair: %v", err)
	}
	if more := logs.String()[mark:]; more != "" {
		t.Errorf("second Repair logged:\n%s", more)
	}
	if diff := diffLines(f.rowsWithIDs(t), before); diff != "" {
		t.Errorf("second Repair changed rows:\n%s", diff)
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

// TestRepairAfterRestartReportsOnly: a backend started after the zones
// were written (a new Backend on the same database) does not know their
// rows: Repair changes nothing, warns once about the zone whose rows are
// certainly not dadns's (hidden, duplicated), and not about the clean
// zone; re-applying the zone rewrites it.
func TestRepairAfterRestartReportsOnly(t *testing.T) {
	f := newFixture(t)
	bad, good := backendtest.Zone(t, "bad.example", 1), backendtest.Zone(t, "good.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{bad, good}); err != nil {
		t.Fatal(err)
	}
	want := f.rows(t, "bad.example.")
	f.tamper(t, "bad.example.")

	var logs syncbuf.Buffer
	opt := f.b.opt
	opt.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	again, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	before := f.rowsWithIDs(t)
	for range 2 {
		if err := again.Repair(testCtx(t)); err != nil {
			t.Fatalf("Repair: %v", err)
		}
	}
	if d := diffLines(f.rowsWithIDs(t), before); d != "" {
		t.Fatalf("Repair of zones it did not write changed rows:\n%s", d)
	}
	out := logs.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "not repaired") || !strings.Contains(out, "zone=bad.example") ||
		!strings.Contains(out, "1 rows hidden (online is not 1) (sip A)") || !strings.Contains(out, "duplicates") {
		t.Fatalf("want one warning about bad.example, got:\n%s", out)
	}
	if err := again.Apply(testCtx(t), []*zone.Zone{bad}); err != nil {
		t.Fatal(err)
	}
	if d := diffLines(f.rows(t, "bad.example."), want); d != "" {
		t.Fatalf("rows after re-apply:\n%s", d)
	}
	if err := again.Verify(testCtx(t), bad.Name, bad.Hash()); err != nil {
		t.Fatal(err)
	}
}

// heldModes are the two ways the backend keeps what it wrote: "rows"
// keeps every zone's rows; "desired" (SetDesired) keeps their digest and
// rebuilds the rows from the stored zone when they are needed.
var heldModes = []string{"rows", "desired"}

// desire, in mode "desired", makes f's backend read zones as the zones
// dadns stores (any other name is not stored).
func (f *fixture) desire(t *testing.T, mode string, zones ...*zone.Zone) {
	t.Helper()
	if mode != "desired" {
		return
	}
	stored := map[zone.Name]*zone.Zone{}
	for _, z := range zones {
		stored[z.Name] = z
	}
	f.b.SetDesired(func(_ context.Context, n zone.Name) (*zone.Zone, error) {
		if z := stored[n]; z != nil {
			return z, nil
		}
		return nil, fmt.Errorf("%s: %w", n, backend.ErrNotFound)
	})
}

// checkKept checks that the backend holds the named zones, with their
// rows in mode "rows" and without them in mode "desired".
func (f *fixture) checkKept(t *testing.T, mode string, names ...zone.Name) {
	t.Helper()
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	for _, n := range names {
		h, ok := f.b.held[n]
		if !ok {
			t.Fatalf("%s not held after Apply", n)
		}
		if h.kept != (mode == "rows") {
			t.Errorf("%s: rows kept = %v in mode %s", n, h.kept, mode)
		}
	}
}

// TestRepairLeavesZoneStoredSince: with SetDesired, a held zone whose
// stored zone changed since it was written (its next apply rewrites it)
// is not repaired from the newer zone: Repair leaves its rows and logs
// nothing, and Verify of the written hash reports the drift from the
// rows the zone rebuilds into.
func TestRepairLeavesZoneStoredSince(t *testing.T) {
	var logs syncbuf.Buffer
	f := newFixtureOn(t, server(t), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	v1, v2 := backendtest.Zone(t, "moved.example", 1), backendtest.Zone(t, "moved.example", 2)
	f.desire(t, "desired", v1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{v1}); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Verify(testCtx(t), v1.Name, v1.Hash()); err != nil {
		t.Fatalf("Verify of untouched rows: %v", err)
	}
	f.desire(t, "desired", v2)
	f.tamper(t, "moved.example.")
	before := f.rowsWithIDs(t)
	if err := f.b.Repair(testCtx(t)); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	if d := diffLines(f.rowsWithIDs(t), before); d != "" {
		t.Errorf("Repair rewrote rows of a zone stored since:\n%s", d)
	}
	if logs.String() != "" {
		t.Errorf("Repair logged:\n%s", logs.String())
	}
	err := f.b.Verify(testCtx(t), v1.Name, v1.Hash())
	if !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("Verify on drifted rows: %v, want ErrMismatch", err)
	}
	// Once stored as written again, Repair restores the rows.
	f.desire(t, "desired", v1)
	if err := f.b.Repair(testCtx(t)); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	if err := f.b.Verify(testCtx(t), v1.Name, v1.Hash()); err != nil {
		t.Fatalf("Verify after repair: %v", err)
	}
}
