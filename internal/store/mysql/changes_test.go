package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestChangesOutOfOrder stores a push whose sequence number is below one
// a polling node has already seen, as happens when a push's transaction
// (numbered when it starts) commits after a later-numbered push of
// another node: behind a lock wait, a retry, a stalled process, or one
// node's clock estimate a little behind the other's. The poll must report
// it: the highest number alone did not move, and the poller's workers
// slept through the change until their idle poll (seen as a zone one
// node's builtin did not serve for 30 s in the cluster end-to-end test).
func TestChangesOutOfOrder(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	open := func(now time.Time) *Store {
		s, err := Open(ctx, dsn, Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	early, late, poller := open(base), open(base.Add(2*time.Second)), open(base.Add(2*time.Second))

	mark, _, err := poller.Changes(ctx, store.ChangeMark{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Put(ctx, store.Zone{Name: "later-numbered.example", Canonical: "text"}); err != nil {
		t.Fatal(err)
	}
	mark, changed, err := poller.Changes(ctx, mark)
	if err != nil || !changed {
		t.Fatalf("Changes after a push = %v, %v", changed, err)
	}
	if _, err := early.Put(ctx, store.Zone{Name: "committed-last.example", Canonical: "text"}); err != nil {
		t.Fatal(err)
	}
	mark, changed, err = poller.Changes(ctx, mark)
	if err != nil || !changed {
		t.Fatalf("Changes after a push numbered below one already seen = %v, %v: the push is not seen", changed, err)
	}
	if _, changed, err = poller.Changes(ctx, mark); err != nil || changed {
		t.Fatalf("Changes with nothing new = %v, %v", changed, err)
	}
	// An update of a zone already in the range is a change too.
	if _, err := early.Put(ctx, store.Zone{Name: "later-numbered.example", Canonical: "text 2"}); err != nil {
		t.Fatal(err)
	}
	if _, changed, err = poller.Changes(ctx, mark); err != nil || !changed {
		t.Fatalf("Changes after a new version numbered below the highest = %v, %v", changed, err)
	}
}
