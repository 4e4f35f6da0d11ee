package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// TestMaxSizeRefusesWritesAndKeepsData fills a capped store: the push that
// does not fit fails with SQLite's "full" error and leaves no trace, every
// earlier push is intact, and reopening without the cap accepts writes again.
func TestMaxSizeRefusesWritesAndKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	s, err := Open(ctx, path, Options{MaxSizeBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		name := fmt.Sprintf("z%d.full.example", i)
		z := testZone(name, 1)
		z.Canonical = zoneText(name, 1, 200)
		if _, err := s.Put(ctx, z); err != nil {
			full = err
			if _, gerr := s.Get(ctx, name); !errors.Is(gerr, store.ErrNotFound) {
				t.Fatalf("refused put of %s left a row: %v", name, gerr)
			}
			break
		}
		stored = append(stored, name)
	}
	if full == nil || !strings.Contains(full.Error(), "full") {
		t.Fatalf("a 256 KiB store took %d zones of ~10 KiB without refusing: %v", len(stored), full)
	}
	if len(stored) == 0 {
		t.Fatal("the cap refused even the first zone")
	}
	for _, name := range stored {
		if _, err := s.Get(ctx, name); err != nil {
			t.Fatalf("zone %s stored before the cap was reached: %v", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, "after.full.example", 2)
	t.Logf("cap of 256 KiB took %d zones, then refused: %v", len(stored), full)
}

// TestFullGroupFailsOnlyTheOverflow runs one group commit whose middle
// write does not fit: SQLite then rolls the whole transaction back. That
// write must report failure and not be stored; the others of its group are
// written again in a transaction of their own and stored.
func TestFullGroupFailsOnlyTheOverflow(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "dadns.db"), Options{MaxSizeBytes: 128 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put := func(name string, extra int) *groupWrite {
		z, err := store.PreparePut(store.Zone{Name: name, Canonical: zoneText(name, 1, extra), Serial: 1, OwnerHost: "da1"})
		if err != nil {
			t.Fatal(err)
		}
		return &groupWrite{done: make(chan error, 1), fn: func(ctx context.Context, tx *sql.Tx) error {
			_, err := s.putTx(ctx, tx, z, s.now())
			return err
		}}
	}
	batch := []*groupWrite{put("a.group.example", 1), put("big.group.example", 20000), put("c.group.example", 1)}
	s.commitGroup(syncFull, batch)
	for i, w := range batch {
		err := <-w.done
		if big := i == 1; big != (err != nil) {
			t.Errorf("write %d of a group that overflowed: %v", i, err)
		}
	}
	if _, err := s.Get(ctx, "big.group.example"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the write that overflowed was stored: %v", err)
	}
	// The others of its group were written again in a new transaction.
	for _, name := range []string{"a.group.example", "c.group.example"} {
		if _, err := s.Get(ctx, name); err != nil {
			t.Errorf("%s, in the group of a write that overflowed: %v", name, err)
		}
	}
	mustPut(t, s, "after.group.example", 1) // the store still takes writes that fit
}
