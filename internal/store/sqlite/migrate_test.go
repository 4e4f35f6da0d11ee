package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

func TestOpenFreshAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "state")
	path := filepath.Join(dir, "dadns.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := userVersion(ctx, s.db); err != nil || v != len(ms) {
		t.Fatalf("user_version = %d, %v; want %d", v, err, len(ms))
	}
	checkPragmas(t, s)
	put := mustPut(t, s, "example.com", 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkMode(t, dir, 0o700)
	checkMode(t, path, 0o600)

	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.Get(ctx, "example.com")
	if err != nil || got.Version != put.Version || got.Canonical != put.Canonical {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if v, _ := userVersion(ctx, s.db); v != len(ms) {
		t.Fatalf("user_version after reopen = %d", v)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(f); err == nil {
			checkMode(t, f, 0o600)
		}
	}
}

// checkPragmas asserts the durability settings on several pooled connections.
func checkPragmas(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	var conns []interface{ Close() error }
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxConns {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mode string
		var sync, fk, busy int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
		c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy)
		if !strings.EqualFold(mode, "wal") || sync != 2 || fk != 1 || busy <= 0 {
			t.Fatalf("journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d", mode, sync, fk, busy)
		}
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s mode %o, want %o", path, got, want)
	}
}

func TestOpenTightensExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dadns.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	checkMode(t, path, 0o600)
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, path, Options{}); err == nil {
		s.Close()
		t.Fatal("opened a database from a newer program")
	}
}

func TestOpenRefusesURIPath(t *testing.T) {
	for _, p := range []string{"", "file:x.db", "x.db?mode=ro"} {
		if s, err := Open(context.Background(), p, Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestMigrationsContiguous(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range ms {
		if m.version != i+1 || strings.TrimSpace(m.sql) == "" {
			t.Fatalf("migration %d: %+v", i, m.name)
		}
	}
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directdnsonly.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE domains (domain TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(context.Background(), path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("opened another program's database")
	}
	if !strings.Contains(err.Error(), "not a dadns database") {
		t.Fatalf("error %v", err)
	}
}

// TestRelaxedConnectionOnlyForBookkeeping: pushes commit with fsync
// (synchronous=FULL), backend bookkeeping without (NORMAL), on the one
// writer connection, whichever ran before.
func TestRelaxedConnectionOnlyForBookkeeping(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	syncOf := func(run func(context.Context, func(*sql.Tx) error) error) int {
		t.Helper()
		var v int
		err := run(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v)
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i, c := range []struct {
		run  func(context.Context, func(*sql.Tx) error) error
		want int
	}{{s.write, 2}, {s.writeRelaxed, 1}, {s.writeRelaxed, 1}, {s.write, 2}, {s.writeRelaxed, 1}, {s.write, 2}} {
		if got := syncOf(c.run); got != c.want {
			t.Fatalf("write %d: synchronous %d, want %d (2 FULL for pushes, 1 NORMAL for bookkeeping)", i, got, c.want)
		}
	}
	var mode string
	if err := s.writer.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("writer connection journal mode %q (%v)", mode, err)
	}
}

// TestMigrationLeanIndexes opens a database at schema version 2 holding
// zones in every backend state and checks that migration 003 makes
// backend_state_next partial (failed and permanent rows only) with every
// row still found: pending and due retries by Due, the next retry's time,
// RetryNow, the operator's failure list.
func TestMigrationLeanIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	clock := newClock()
	s, err := Open(ctx, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"pending.example", "applied.example", "due.example", "later.example", "permanent.example"} {
		mustPut(t, s, n, 1)
	}
	mustDue(t, s, "bind", 10) // registers bind: every zone pending
	if err := s.Applied(ctx, "bind", []store.Applied{{Name: "applied.example", Version: 1, Hash: testZone("applied.example", 1).Hash}}); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	if err := s.Failed(ctx, "bind", []store.Failure{
		{Name: "due.example", Version: 1, Err: "refused", Next: now.Add(time.Minute)},
		{Name: "later.example", Version: 1, Err: "refused", Next: now.Add(time.Hour)},
		{Name: "permanent.example", Version: 1, Err: "bad", Permanent: true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to version 2's schema: migration 003 changes only this index.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DROP INDEX backend_state_next",
		"CREATE INDEX backend_state_next ON backend_state(backend, state, next_attempt)",
		"PRAGMA user_version = 2",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	s, err = Open(ctx, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := userVersion(ctx, s.db); v != 3 {
		t.Fatalf("user_version %d after migrating, want 3", v)
	}
	var def string
	if err := s.db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'backend_state_next'").Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "WHERE state IN ('failed', 'permanent')") {
		t.Fatalf("backend_state_next after migrating: %s", def)
	}
	var entries int
	if err := s.db.QueryRow("SELECT count(*) FROM backend_state INDEXED BY backend_state_next WHERE state IN ('failed', 'permanent')").Scan(&entries); err != nil || entries != 3 {
		t.Fatalf("backend_state_next holds %d rows (%v), want the 3 failed and permanent", entries, err)
	}
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %s %v", check, err)
	}
	clock.Advance(2 * time.Minute)
	w, next := mustDue(t, s, "bind", 10)
	if got := strings.Join(dueNames(w), " "); got != "pending.example@1 due.example@1" {
		t.Fatalf("due after migrating: %s", got)
	}
	if want := now.Add(time.Hour); !next.Equal(want) {
		t.Fatalf("next retry %v, want %v", next, want)
	}
	if n, err := s.RetryNow(ctx, "bind"); err != nil || n != 1 {
		t.Fatalf("RetryNow = %d, %v; want 1 (later.example)", n, err)
	}
	fails, total, err := s.RecentFailures(ctx, 10)
	if err != nil || total != 3 || len(fails) != 3 {
		t.Fatalf("RecentFailures = %d of %d, %v; want 3", len(fails), total, err)
	}
}
