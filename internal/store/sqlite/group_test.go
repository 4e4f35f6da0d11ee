package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
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

// TestBookkeepingGrouped queues the applied marks of several backends and
// a failing bookkeeping write behind a held writer lock: the marks share
// relaxed commits of at most recordChunk rows, each is recorded, and only
// the failing write is undone.
func TestBookkeepingGrouped(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	backends := []string{"b0", "b1", "b2", "b3"}
	if err := s.Forget(ctx, backends); err != nil {
		t.Fatal(err)
	}
	var zones []store.Zone
	for i := range 30 {
		zones = append(zones, mustPut(t, s, fmt.Sprintf("z%d.example", i), 1))
	}
	marks := func(from, to int) []store.Applied {
		var out []store.Applied
		for _, z := range zones[from:to] {
			out = append(out, store.Applied{Name: z.Name, Version: z.Version, Hash: z.Hash})
		}
		return out
	}
	synced0, relaxed0 := s.synced.Load(), s.relaxed.Load()
	s.wmu.Lock()
	var wg sync.WaitGroup
	errs := make([]error, len(backends)+1)
	// The first write leads alone (its commit waits for the lock); the
	// others queue behind it: 10 + 1 + 30 rows in the next commit, then 30.
	queue := []func() error{
		func() error { return s.Applied(ctx, "b0", marks(0, 10)) },
		func() error { return s.Applied(ctx, "b1", marks(0, 10)) },
		func() error {
			return s.groupedIn(&s.books, ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, "UPDATE backends SET last_applied = -1"); err != nil {
					return err
				}
				return errors.New("refused")
			})
		},
		func() error { return s.Applied(ctx, "b2", marks(0, 30)) },
		func() error { return s.Applied(ctx, "b3", marks(0, 30)) },
	}
	for i, fn := range queue {
		wg.Go(func() { errs[i] = fn() })
		waitQueuedIn(t, &s.books, i)
	}
	s.wmu.Unlock()
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 2) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if n := s.relaxed.Load() - relaxed0; n != 3 {
		t.Fatalf("%d relaxed commits, want 3", n)
	}
	if n := s.synced.Load() - synced0; n != 0 {
		t.Fatalf("%d fsynced commits for bookkeeping", n)
	}
	for _, b := range backends {
		sum, err := s.Summary(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		want := 30
		if b == "b0" || b == "b1" {
			want = 10
		}
		if sum.Applied != want || sum.LastApplied.IsZero() {
			t.Fatalf("%s: %+v, want %d applied", b, sum, want)
		}
	}
}

// waitQueuedIn is waitQueued for grouper g.
func waitQueuedIn(t *testing.T, g *grouper, i int) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		n, leading := len(g.queue), g.leading
		g.mu.Unlock()
		if leading && n == i {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("write %d never queued", i)
}

// TestQueuedWriterLeadsNextGroup holds the first group's sync, queues
// writes meanwhile and checks that the next group runs on the goroutine of
// one of its own callers (no goroutine is started per group), that it holds
// every write queued, and that each caller hears its own outcome.
func TestQueuedWriterLeadsNextGroup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	inSync, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.wal.beforeSync = func() {
		once.Do(func() {
			close(inSync)
			<-release
		})
	}
	first := make(chan error, 1)
	go func() { first <- s.grouped(ctx, func(context.Context, *sql.Tx) error { return nil }) }()
	<-inSync // the first group committed and waits for its sync

	const queued = 5
	var (
		mu      sync.Mutex
		callers = map[uint64]bool{}
		runners []uint64
	)
	var wg sync.WaitGroup
	errs := make([]error, queued)
	for i := range queued {
		wg.Go(func() {
			mu.Lock()
			callers[goroutineID()] = true
			mu.Unlock()
			errs[i] = s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
				mu.Lock()
				runners = append(runners, goroutineID())
				mu.Unlock()
				if i == 2 {
					return errors.New("write 2 refused")
				}
				_, err := tx.ExecContext(ctx, "UPDATE counters SET value = value WHERE name = 'push'")
				return err
			})
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.group.mu.Lock()
		n := len(s.group.queue)
		s.group.mu.Unlock()
		if n == queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes queued", n, queued)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 2) != (err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range runners {
		if !callers[r] {
			t.Errorf("a write ran on goroutine %d, none of its callers %v", r, callers)
		}
	}
	if len(runners) < queued {
		t.Errorf("%d writes ran, want %d or more", len(runners), queued)
	}
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	if len(s.group.queue) != 0 || s.group.leading {
		t.Errorf("after the groups: %d queued, leading %v", len(s.group.queue), s.group.leading)
	}
}

// goroutineID is the calling goroutine's number (from its stack trace).
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	n, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return n
}
