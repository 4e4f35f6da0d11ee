package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// TestGroupCommitIsolatesFailures queues writes behind a held writer lock so
// they share one transaction, and makes one of them fail after writing: only
// its own change is undone.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	set := func(key string, fail bool) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, 'v')`, key); err != nil {
				return err
			}
			if fail {
				return errors.New("refused")
			}
			return nil
		}
	}
	s.wmu.Lock()
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.grouped(ctx, set(fmt.Sprintf("k%d", i), i == 3))
		}()
		waitQueued(t, s, i)
	}
	s.wmu.Unlock()
	wg.Wait()
	for i, err := range errs {
		_, getErr := s.GetSetting(ctx, fmt.Sprintf("k%d", i))
		if i == 3 {
			if err == nil || !errors.Is(getErr, store.ErrNotFound) {
				t.Fatalf("failed write: err %v, row present %v", err, getErr == nil)
			}
			continue
		}
		if err != nil || getErr != nil {
			t.Fatalf("write %d: %v / %v", i, err, getErr)
		}
	}
}

// waitQueued waits until i writes are queued behind the leader (the first
// write leaves the queue at once).
func waitQueued(t *testing.T, s *Store, i int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.group.mu.Lock()
		n, leading := len(s.group.queue), s.group.leading
		s.group.mu.Unlock()
		if leading && n == i {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("write %d never queued", i)
}

// TestLoneWriteWithoutSavepoint: a write alone in its group runs without
// a savepoint (two statements fewer) and its failure still leaves nothing
// behind.
func TestLoneWriteWithoutSavepoint(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	set := func(key string, fail bool) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES (?, 'v')", key); err != nil {
				return err
			}
			if fail {
				return errors.New("refused")
			}
			return nil
		}
	}
	before := s.statements.Load()
	if err := s.grouped(ctx, set("ok", false)); err != nil {
		t.Fatal(err)
	}
	// BEGIN, the INSERT, COMMIT.
	if n := s.statements.Load() - before; n != 3 {
		t.Fatalf("a lone write ran %d statements, want 3", n)
	}
	if err := s.grouped(ctx, set("bad", true)); err == nil {
		t.Fatal("failed write reported success")
	}
	if _, err := s.GetSetting(ctx, "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed lone write left its row: %v", err)
	}
	if _, err := s.GetSetting(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
}
