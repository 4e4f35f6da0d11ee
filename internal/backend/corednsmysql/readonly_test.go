package corednsmysql

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// schemaState lists the database's tables and columns from
// information_schema, as "table.column type" lines.
func (f *fixture) schemaState(t *testing.T) []string {
	t.Helper()
	rs, err := f.root.Query(`SELECT t.TABLE_NAME, COALESCE(c.COLUMN_NAME, ''), COALESCE(c.COLUMN_TYPE, '')
FROM information_schema.TABLES t LEFT JOIN information_schema.COLUMNS c
  ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var tb, col, typ string
		if err := rs.Scan(&tb, &col, &typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s.%s %s", tb, col, typ))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReadsCreateNothing: on a database without the tables, Zone, Zones,
// Verify, Probe and Repair answer (not found, no zones, nothing to
// repair) and create nothing; the first Apply creates the tables.
func TestReadsCreateNothing(t *testing.T) {
	f := newFixture(t)
	if s := f.schemaState(t); len(s) != 0 {
		t.Fatalf("fresh database has tables: %v", s)
	}
	z := backendtest.Zone(t, "ro.example", 1)
	if names, err := f.b.Zones(testCtx(t)); err != nil || len(names) != 0 {
		t.Errorf("Zones() = %v, %v; want none", names, err)
	}
	if _, err := f.b.Zone(testCtx(t), z.Name); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Zone() = %v, want ErrNotFound", err)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Verify() = %v, want ErrNotFound", err)
	}
	if err := f.b.Probe(testCtx(t)); err != nil {
		t.Errorf("Probe() = %v", err)
	}
	if err := f.b.Repair(testCtx(t)); err != nil {
		t.Errorf("Repair() with nothing written = %v", err)
	}
	if s := f.schemaState(t); len(s) != 0 {
		t.Fatalf("reads created tables: %v", s)
	}

	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	after := f.schemaState(t)
	if len(after) == 0 {
		t.Fatal("Apply created no tables")
	}
	// With the tables there, reads still change nothing.
	rows := f.rowsWithIDs(t)
	if _, err := f.b.Zone(testCtx(t), z.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.Zones(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatal(err)
	}
	if d := diffLines(f.schemaState(t), after); d != "" {
		t.Fatalf("reads changed the schema:\n%s", d)
	}
	if d := diffLines(f.rowsWithIDs(t), rows); d != "" {
		t.Fatalf("reads changed rows:\n%s", d)
	}
}

// TestReadsAfterTablesDropped: tables dropped behind a backend that had
// created them: reads report the zone gone and recreate nothing; Repair,
// which holds the zone, puts tables and rows back.
func TestReadsAfterTablesDropped(t *testing.T) {
	f := newFixture(t)
	z := backendtest.Zone(t, "dropped.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	want := f.rows(t, "dropped.example.")
	f.exec(t, "DROP TABLE records", "DROP TABLE zones")
	if names, err := f.b.Zones(testCtx(t)); err != nil || len(names) != 0 {
		t.Errorf("Zones() = %v, %v; want none", names, err)
	}
	if _, err := f.b.Zone(testCtx(t), z.Name); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Zone() = %v, want ErrNotFound", err)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); !errors.Is(err, backend.ErrMismatch) {
		t.Errorf("Verify() = %v, want ErrMismatch", err)
	}
	if s := f.schemaState(t); len(s) != 0 {
		t.Fatalf("reads created tables: %v", s)
	}
	if err := f.b.Repair(testCtx(t)); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	if d := diffLines(f.rows(t, "dropped.example."), want); d != "" {
		t.Fatalf("rows after Repair:\n%s", d)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatalf("Verify after Repair: %v", err)
	}
}

// TestApplyAfterTablesDropped: a backend that checked the schema before
// the tables were dropped creates them again in the same Apply.
func TestApplyAfterTablesDropped(t *testing.T) {
	f := newFixture(t)
	a, b := backendtest.Zone(t, "a.example", 1), backendtest.Zone(t, "b.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{a}); err != nil {
		t.Fatal(err)
	}
	f.exec(t, "DROP TABLE records", "DROP TABLE zones")
	if err := f.b.Delete(testCtx(t), []zone.Name{a.Name}); err != nil {
		t.Fatalf("Delete on dropped tables: %v", err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{b}); err != nil {
		t.Fatalf("Apply on dropped tables: %v", err)
	}
	if err := f.b.Verify(testCtx(t), b.Name, b.Hash()); err != nil {
		t.Fatal(err)
	}
}
