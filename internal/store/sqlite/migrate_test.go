package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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

// TestRelaxedConnectionOnlyForBookkeeping: the writer connection commits
// without a sync of its own (synchronous=NORMAL); pushes and every other
// durable write wait for the store's sync of the log, backend bookkeeping
// does not.
func TestRelaxedConnectionOnlyForBookkeeping(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for i, c := range []struct {
		run  func(context.Context, func(*sql.Tx) error) error
		sync bool
	}{{s.write, true}, {s.writeRelaxed, false}, {s.writeRelaxed, false}, {s.write, true}, {s.writeRelaxed, false}, {s.write, true}} {
		syncs0 := s.wal.syncs.Load()
		var v int
		err := c.run(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v)
		})
		if err != nil {
			t.Fatal(err)
		}
		if v != 1 {
			t.Fatalf("write %d: synchronous %d, want 1 (NORMAL: the store syncs the log itself)", i, v)
		}
		if synced := s.wal.syncs.Load() > syncs0; synced != c.sync {
			t.Fatalf("write %d: log synced %v, want %v", i, synced, c.sync)
		}
	}
	var mode string
	if err := s.writer.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("writer connection journal mode %q (%v)", mode, err)
	}
}

// createAtVersion creates a database at path with the migrations up to
// version v only, as an older dadns left it.
func createAtVersion(t *testing.T, path string, v int) *sql.DB {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(ON)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	for _, m := range ms[:v] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
	return raw
}

// oldStateRow is one backend_state row of a database at schema version 3
// or earlier, in its columns' order.
type oldStateRow struct {
	backend, zone         string
	desired, seq          int64
	state                 string
	appliedVersion        int64
	appliedHash           string
	appliedAt, attempts   int64
	lastError             string
	failedAt, nextAttempt int64
}

// fillOld writes, with the SQL of schema versions 1 to 3, zones (one a
// tombstone), backends bind and nsd, and a backend_state row in every
// state. now is the test clock's time in unix nanoseconds.
func fillOld(t *testing.T, raw *sql.DB, now int64) []oldStateRow {
	t.Helper()
	zones := []struct {
		name    string
		version int64
		deleted bool
	}{
		{"pending.example", 1, false}, {"applied.example", 2, false}, {"due.example", 1, false},
		{"later.example", 1, false}, {"permanent.example", 1, false}, {"gone.example", 2, true},
	}
	for i, z := range zones {
		insertRawZone(t, raw, z.name, z.version, i+1, z.deleted, now, now+int64(i), "; as pushed\n")
	}
	if _, err := raw.Exec("UPDATE counters SET value = ? WHERE name = 'push'", len(zones)); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"bind", "nsd"} {
		if _, err := raw.Exec("INSERT INTO backends (name, added) VALUES (?, ?)", b, now); err != nil {
			t.Fatal(err)
		}
	}
	min := int64(time.Minute)
	rows := []oldStateRow{
		{"bind", "pending.example", 1, 1, "pending", 0, "", 0, 0, "", 0, 0},
		{"bind", "applied.example", 2, 2, "applied", 2, "h2", now + 5, 0, "", 0, 0},
		{"bind", "due.example", 1, 3, "failed", 0, "", 0, 2, "refused", now, now + min},
		{"bind", "later.example", 1, 4, "failed", 0, "", 0, 1, "refused", now, now + 60*min},
		{"bind", "permanent.example", 1, 5, "permanent", 0, "", 0, 1, "bad", now + 1, 0},
		{"bind", "gone.example", 2, 6, "applied", 2, "", now + 9, 0, "", 0, 0},
		{"nsd", "pending.example", 1, 1, "applied", 1, "h1", now + 3, 0, "", 0, 0},
		{"nsd", "applied.example", 2, 2, "pending", 1, "h1", now + 2, 0, "", 0, 0},
		{"nsd", "due.example", 1, 3, "applied", 1, "h1", now + 4, 0, "", 0, 0},
		{"nsd", "later.example", 1, 4, "applied", 1, "h1", now + 4, 0, "", 0, 0},
		{"nsd", "permanent.example", 1, 5, "applied", 1, "h1", now + 4, 0, "", 0, 0},
		{"nsd", "gone.example", 2, 6, "pending", 1, "h1", now + 1, 0, "", 0, 0},
	}
	for _, r := range rows {
		if _, err := raw.Exec(`INSERT INTO backend_state (backend, zone, desired_version, seq, state,
			applied_version, applied_hash, applied_at, attempts, last_error, failed_at, next_attempt)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.backend, r.zone, r.desired, r.seq, r.state,
			r.appliedVersion, r.appliedHash, r.appliedAt, r.attempts, r.lastError, r.failedAt, r.nextAttempt); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

// stateRows reads every backend_state row, by backend then zone.
func stateRows(t *testing.T, q querier) []oldStateRow {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), `SELECT backend, zone, desired_version, seq, state,
		applied_version, applied_hash, applied_at, attempts, last_error, failed_at, next_attempt
		FROM backend_state ORDER BY backend, zone`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []oldStateRow
	for rows.Next() {
		var r oldStateRow
		if err := rows.Scan(&r.backend, &r.zone, &r.desired, &r.seq, &r.state, &r.appliedVersion,
			&r.appliedHash, &r.appliedAt, &r.attempts, &r.lastError, &r.failedAt, &r.nextAttempt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkIntegrity(t *testing.T, s *Store) {
	t.Helper()
	for _, pragma := range []string{"integrity_check", "foreign_key_check"} {
		rows, err := s.db.Query("PRAGMA " + pragma)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprint(vals...))
		}
		rows.Close()
		if pragma == "integrity_check" && strings.Join(got, ",") != "ok" || pragma == "foreign_key_check" && len(got) > 0 {
			t.Fatalf("%s: %v", pragma, got)
		}
	}
}

// TestMigrationLeanIndexes opens a database at schema version 2 holding
// zones in every backend state and checks that migration 003 (and those
// after it) keep backend_state_next partial (failed and permanent rows
// only) with every row still found: pending and due retries by Due, the
// next retry's time, RetryNow, the operator's failure list.
func TestMigrationLeanIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	clock := newClock()
	now := clock.Now()
	raw := createAtVersion(t, path, 2)
	fillOld(t, raw, store.UnixNano(now))
	raw.Close()

	s, err := Open(ctx, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, _ := migrations()
	if v, _ := userVersion(ctx, s.db); v != len(ms) {
		t.Fatalf("user_version %d after migrating, want %d", v, len(ms))
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
	checkIntegrity(t, s)
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

// TestMigrationStateByZone opens a database at schema version 3 and checks
// that migration 004 keeps every backend_state row as it was, now keyed by
// (zone, backend), with only pending rows in backend_state_pending, each
// backend's latest applied mark in backends.last_applied, and the store
// working on it: due work, summaries, a new push due for both backends.
func TestMigrationStateByZone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	clock := newClock()
	now := clock.Now()
	raw := createAtVersion(t, path, 3)
	before := fillOld(t, raw, store.UnixNano(now))
	beforeRows := stateRows(t, raw)
	raw.Close()

	s, err := Open(ctx, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, _ := migrations()
	if v, _ := userVersion(ctx, s.db); v != len(ms) {
		t.Fatalf("user_version %d after migrating, want %d", v, len(ms))
	}
	checkIntegrity(t, s)
	if after := stateRows(t, s.db); fmt.Sprint(after) != fmt.Sprint(beforeRows) || len(after) != len(before) {
		t.Fatalf("backend_state after migrating:\n%v\nbefore:\n%v", after, beforeRows)
	}
	var def string
	if err := s.db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'backend_state'").Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "PRIMARY KEY (zone, backend)") {
		t.Fatalf("backend_state after migrating: %s", def)
	}
	var indexes []string
	rows, err := s.db.Query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'backend_state' AND sql IS NOT NULL ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		indexes = append(indexes, n)
	}
	rows.Close()
	if got := strings.Join(indexes, " "); got != "backend_state_next backend_state_pending" {
		t.Fatalf("backend_state indexes after migrating: %s", got)
	}
	if err := s.db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'backend_state_pending'").Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "(backend, seq, attempts) WHERE state = 'pending'") {
		t.Fatalf("backend_state_pending after migrating: %s", def)
	}
	var pending int
	if err := s.db.QueryRow("SELECT count(*) FROM backend_state INDEXED BY backend_state_pending WHERE state = 'pending'").Scan(&pending); err != nil || pending != 3 {
		t.Fatalf("backend_state_pending holds %d rows (%v), want the 3 pending", pending, err)
	}
	for b, want := range map[string]int64{"bind": store.UnixNano(now) + 9, "nsd": store.UnixNano(now) + 4} {
		var got int64
		if err := s.db.QueryRow("SELECT last_applied FROM backends WHERE name = ?", b).Scan(&got); err != nil || got != want {
			t.Fatalf("%s: last_applied %d (%v), want %d", b, got, err, want)
		}
	}
	sum, err := s.Summary(ctx, "nsd")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Applied != 4 || sum.Behind != 2 || sum.Failing != 0 || !sum.LastApplied.Equal(now.Add(4)) {
		t.Fatalf("nsd summary after migrating: %+v", sum)
	}
	clock.Advance(2 * time.Minute)
	if w, _ := mustDue(t, s, "nsd", 10); strings.Join(dueNames(w), " ") != "applied.example@2 gone.example@2" {
		t.Fatalf("nsd due after migrating: %v", dueNames(w))
	}
	if w, _ := mustDue(t, s, "bind", 10); strings.Join(dueNames(w), " ") != "pending.example@1 due.example@1" {
		t.Fatalf("bind due after migrating: %v", dueNames(w))
	}
	z := mustPut(t, s, "new.example", 1)
	if z.Version != 1 {
		t.Fatalf("new zone version %d", z.Version)
	}
	for _, b := range []string{"bind", "nsd"} {
		if st := stateOf(t, s, "new.example", b); st.State != store.StatePending || st.DesiredVersion != 1 {
			t.Fatalf("new zone on %s: %+v", b, st)
		}
	}
	if err := s.Applied(ctx, "nsd", []store.Applied{{Name: "applied.example", Version: 2, Hash: "h2"}}); err != nil {
		t.Fatal(err)
	}
	if sum, err := s.Summary(ctx, "nsd"); err != nil || sum.Applied != 5 || sum.Behind != 2 || !sum.LastApplied.Equal(clock.Now()) {
		t.Fatalf("nsd summary after an applied mark: %+v, %v", sum, err)
	}
}

// TestMigrationHistoryByZone opens a database at schema version 4 with
// zone histories and checks that migration 005 keeps every entry, now
// keyed by (zone, version), that History reads them as before, that new
// pushes add to them and prune them, and that a purge still takes a zone's
// history along.
func TestMigrationHistoryByZone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	clock := newClock()
	now := store.UnixNano(clock.Now())
	raw := createAtVersion(t, path, 4)
	for _, z := range []struct {
		name     string
		versions int
	}{{"long.example", 25}, {"short.example", 3}} {
		insertRawZone(t, raw, z.name, int64(z.versions), 1, false, now, now, "")
		for v := 1; v <= z.versions; v++ {
			if _, err := raw.Exec(`INSERT INTO zone_history (zone, version, at, deleted, serial, owner_host, owner_user)
				VALUES (?, ?, ?, 0, ?, ?, 'alice')`, z.name, v, now+int64(v), 100+v, fmt.Sprintf("da%d", v%3)); err != nil {
				t.Fatal(err)
			}
		}
	}
	raw.Close()

	s, err := Open(ctx, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkIntegrity(t, s)
	var def string
	if err := s.db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'zone_history'").Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "PRIMARY KEY (zone, version)") {
		t.Fatalf("zone_history after migrating: %s", def)
	}
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM zone_history").Scan(&n); err != nil || n != 28 {
		t.Fatalf("zone_history holds %d entries (%v), want 28", n, err)
	}
	h, err := s.History(ctx, "long.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != store.HistoryLength {
		t.Fatalf("History = %d entries, want %d", len(h), store.HistoryLength)
	}
	for i, e := range h {
		v := int64(25 - i)
		if e.Version != v || e.Serial != uint32(100+v) || e.OwnerHost != fmt.Sprintf("da%d", v%3) ||
			!e.At.Equal(store.FromUnixNano(now+v)) || e.Deleted {
			t.Fatalf("History[%d] = %+v, want version %d", i, e, v)
		}
	}
	// Version 26 lands on the existing entries; by version 32 the history
	// has been pruned back to its last HistoryLength.
	for range 7 {
		z := testZone("long.example", 7)
		z.OwnerHost, z.OwnerUser = "da1", "alice"
		if _, err := s.Put(ctx, z); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.QueryRow("SELECT count(*) FROM zone_history WHERE zone = 'long.example'").Scan(&n); err != nil || n != store.HistoryLength {
		t.Fatalf("long.example keeps %d entries (%v) after pruning, want %d", n, err, store.HistoryLength)
	}
	if h, _ := s.History(ctx, "long.example"); len(h) == 0 || h[0].Version != 32 || h[len(h)-1].Version != 32-store.HistoryLength+1 {
		t.Fatalf("History after pushes: %+v", h)
	}
	mustDelete(t, s, "short.example")
	clock.Advance(time.Hour)
	if n, err := s.Purge(ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	if h, err := s.History(ctx, "short.example"); err != nil || len(h) != 0 {
		t.Fatalf("purged zone keeps history: %+v, %v", h, err)
	}
}

// TestMigrationStateRowsComplete opens a database at schema version 5 in
// which a zone has no row for a registered backend (as an Import into a
// store with backends left it) and checks that migration 006 adds it,
// pending, so the zone is due and the status counts are right.
func TestMigrationStateRowsComplete(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	clock := newClock()
	now := store.UnixNano(clock.Now())
	raw := createAtVersion(t, path, 5)
	for i, name := range []string{"kept.example", "imported.example"} {
		insertRawZone(t, raw, name, 3, i+1, false, now, now, "")
	}
	for _, q := range []string{
		"INSERT INTO backends (name, added) VALUES ('bind', 0)",
		`INSERT INTO backend_state (backend, zone, desired_version, seq, state, applied_version)
			VALUES ('bind', 'kept.example', 3, 1, 'applied', 3)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	s, err := Open(ctx, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkIntegrity(t, s)
	if st := stateOf(t, s, "imported.example", "bind"); st.State != store.StatePending || st.DesiredVersion != 3 || st.AppliedVersion != 0 {
		t.Fatalf("imported.example on bind after migrating: %+v", st)
	}
	if st := stateOf(t, s, "kept.example", "bind"); st.State != store.StateApplied {
		t.Fatalf("kept.example on bind after migrating: %+v", st)
	}
	if w, _ := mustDue(t, s, "bind", 10); strings.Join(dueNames(w), " ") != "imported.example@3" {
		t.Fatalf("due after migrating: %v", dueNames(w))
	}
	if sum, err := s.Summary(ctx, "bind"); err != nil || sum.Applied != 1 || sum.Behind != 1 {
		t.Fatalf("summary after migrating: %+v, %v", sum, err)
	}
}

// TestImportDueForRegisteredBackends imports zones into a store whose
// backends are already registered: each zone is due for each of them,
// and the status counts agree.
func TestImportDueForRegisteredBackends(t *testing.T) {
	ctx := context.Background()
	s, clock := openTest(t)
	if err := s.Forget(ctx, []string{"bind", "nsd"}); err != nil {
		t.Fatal(err)
	}
	live := testZone("live.example", 4)
	live.Version, live.Hash, live.Created, live.Updated = 7, store.HashText(live.Canonical), clock.Now(), clock.Now()
	gone := store.Zone{Name: "gone.example", Version: 3, Deleted: true, Created: clock.Now(), Updated: clock.Now()}
	if err := s.Import(ctx, []store.Zone{live, gone}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"bind", "nsd"} {
		w, _ := mustDue(t, s, b, 10)
		if got := strings.Join(dueNames(w), " "); got != "live.example@7 gone.example@3" {
			t.Fatalf("%s: due after import: %s", b, got)
		}
		if sum, err := s.Summary(ctx, b); err != nil || sum.Applied != 0 || sum.Behind != 2 {
			t.Fatalf("%s: summary after import: %+v, %v", b, sum, err)
		}
	}
	applyAll(t, s, "bind")
	if sum, err := s.Summary(ctx, "bind"); err != nil || sum.Applied != 1 || sum.Behind != 0 {
		t.Fatalf("bind: summary after applying: %+v, %v", sum, err)
	}
}

// insertRawZone writes a zone row straight into a database created at an
// older schema version: owned by da1/alice, serial 1, the text
// zoneText(name, 1, 3) (none when deleted); original is the pushed text
// ("" for none), or a prefix that the text follows.
func insertRawZone(t *testing.T, raw *sql.DB, name string, version int64, seq int, deleted bool, created, updated int64, original string) {
	t.Helper()
	text, hash := "", ""
	if !deleted {
		text = zoneText(name, 1, 3)
		hash = store.HashText(text)
	}
	if original != "" {
		original += text
	}
	if _, err := raw.Exec(`INSERT INTO zones (name, version, seq, deleted, hash, serial, owner_host, owner_user,
		created, updated, canonical, original) VALUES (?, ?, ?, ?, ?, 1, 'da1', 'alice', ?, ?, ?, ?)`,
		name, version, seq, deleted, hash, created, updated, text, original); err != nil {
		t.Fatal(err)
	}
}
