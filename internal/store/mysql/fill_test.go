package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestFillMissingRows recreates what a push on one Galera node racing a
// backend's registration on another leaves behind (a zone without a row
// for the new backend): the backend's next Due after the fill interval
// finds the zone.
func TestFillMissingRows(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, srv.DSN(srv.NewDatabase(t)), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Forget(ctx, []string{"builtin@n2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, store.Zone{Name: "raced.example", Canonical: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM backend_state WHERE zone = 'raced.example'"); err != nil {
		t.Fatal(err)
	}
	if w, _, _ := s.Due(ctx, "builtin@n2", 10); len(w) != 0 {
		t.Fatalf("a fill ran before its interval: %d zones", len(w))
	}
	for round := range 2 {
		now = now.Add(fillSoon)
		w, _, err := s.Due(ctx, "builtin@n2", 10)
		if err != nil || len(w) != 1 {
			t.Fatalf("round %d: Due after the fill interval = %d zones, %v; want the raced zone", round, len(w), err)
		}
		if _, err := s.db.ExecContext(ctx, "DELETE FROM backend_state WHERE zone = 'raced.example'"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFillDue: the change poll's fill (FillDue) adds a raced zone's
// missing row for a backend this process registered once the fill is due,
// without any Due call (the worker may sleep until its idle poll), and
// says so, so that the poll wakes the workers; a backend registered by
// another process is left to that process.
func TestFillDue(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	open := func() *Store {
		s, err := Open(ctx, dsn, Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	s, other := open(), open()
	if err := s.ForgetSuffix(ctx, "@n2", []string{"builtin@n2"}); err != nil {
		t.Fatal(err)
	}
	if err := other.ForgetSuffix(ctx, "@n3", []string{"builtin@n3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, store.Zone{Name: "raced.example", Canonical: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM backend_state WHERE zone = 'raced.example'"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.FillDue(ctx); err != nil || n != 0 {
		t.Fatalf("FillDue before the fill interval = %d, %v", n, err)
	}
	now = now.Add(fillSoon)
	if n, err := s.FillDue(ctx); err != nil || n != 1 {
		t.Fatalf("FillDue after the fill interval = %d, %v; want the raced zone's row for builtin@n2 only", n, err)
	}
	if n, err := s.FillDue(ctx); err != nil || n != 0 {
		t.Fatalf("FillDue right after a fill = %d, %v", n, err)
	}
	if w, _, err := s.Due(ctx, "builtin@n2", 10); err != nil || len(w) != 1 {
		t.Fatalf("Due after the poll's fill = %d zones, %v; want the raced zone", len(w), err)
	}
}
