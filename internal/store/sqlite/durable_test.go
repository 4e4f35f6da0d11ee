package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// TestPushAckedOnlyAfterSync holds the store's sync of the log: a push
// whose transaction has committed (readers see it) is not acknowledged
// until a sync that began after its commit is done, and a push whose
// sync fails is not acknowledged at all.
func TestPushAckedOnlyAfterSync(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	entered := make(chan uint64, 1)
	release := make(chan struct{})
	s.wal.mu.Lock()
	s.wal.beforeSync = func() {
		entered <- s.wal.written.Load()
		<-release
	}
	s.wal.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, testZone("held.example", 1))
		done <- err
	}()
	var written uint64
	select {
	case written = <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the push never synced the log")
	}
	// The commit is in the log (readers see it) and counted in the sync
	// that has begun...
	if _, err := s.Get(ctx, "held.example"); err != nil {
		t.Fatalf("committed push not visible: %v", err)
	}
	if written < s.wal.written.Load() {
		t.Fatalf("the sync began at ticket %d, before the push's commit %d", written, s.wal.written.Load())
	}
	// ...but not acknowledged while that sync runs.
	select {
	case err := <-done:
		t.Fatalf("push acknowledged before its sync finished: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A sync that fails acknowledges nothing.
	s.wal.mu.Lock()
	s.wal.beforeSync = nil
	s.wal.path += ".missing"
	s.wal.mu.Unlock()
	if _, err := s.Put(ctx, testZone("unsynced.example", 1)); err == nil {
		t.Fatal("push acknowledged although the log could not be synced")
	}
	if _, err := s.Delete(ctx, "held.example"); err == nil {
		t.Fatal("delete acknowledged although the log could not be synced")
	}
}

// TestConcurrentPushesShareSyncs: pushers that wait for the log's sync at
// the same time share fdatasync calls, and each hears of its push only
// after one that covers it (checked by TestPushAckedOnlyAfterSync).
func TestConcurrentPushesShareSyncs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	syncs0 := s.wal.syncs.Load()
	var wg sync.WaitGroup
	const pushers, each = 16, 20
	for p := range pushers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Put(ctx, testZone(fmt.Sprintf("p%d-%d.example", p, i), 1)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n := s.wal.syncs.Load() - syncs0
	t.Logf("%d pushes, %d syncs of the log", pushers*each, n)
	if n == 0 || n >= pushers*each {
		t.Fatalf("%d syncs for %d pushes", n, pushers*each)
	}
}

// TestPushGoesBeforeBookkeeping holds the writer lock as a running
// bookkeeping commit would, queues bookkeeping writes of several backends
// and then a push: the push commits first, then the bookkeeping.
func TestPushGoesBeforeBookkeeping(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	s.books.linger = 0 // bookkeeping starts at once, as when no push came lately
	var mu sync.Mutex
	var order []string
	note := func(what string) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			mu.Lock()
			order = append(order, what)
			mu.Unlock()
			return nil
		}
	}
	s.wmu.Lock()
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.groupedIn(&s.books, ctx, 1, note("books")) })
	waitWaiters(t, &s.wmu, 0, 1)
	wg.Go(func() { _ = s.grouped(ctx, note("push")) })
	waitWaiters(t, &s.wmu, 1, 1)
	s.wmu.Unlock()
	wg.Wait()
	if fmt.Sprint(order) != "[push books]" {
		t.Fatalf("commit order %v, want the push first", order)
	}
}

// waitWaiters waits until l has urgent and plain waiters.
func waitWaiters(t *testing.T, l *writerLock, urgent, plain int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		u, p := l.urgent, l.plain
		l.mu.Unlock()
		if u == urgent && p == plain {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("never %d urgent and %d plain waiters", urgent, plain)
}

// TestWriterLockLanes: urgent waiters go first, but a plain waiter gets the
// lock after maxUrgentRun urgent holders in a row; TryLock never passes
// a waiting urgent one.
func TestWriterLockLanes(t *testing.T) {
	var l writerLock
	l.init()
	l.Lock()
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	take := func(name string, urgent bool) {
		wg.Go(func() {
			if urgent {
				l.LockUrgent()
			} else {
				l.Lock()
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			l.Unlock()
		})
	}
	take("plain", false)
	waitWaiters(t, &l, 0, 1)
	for i := range 4 {
		take(fmt.Sprintf("urgent%d", i), true)
		waitWaiters(t, &l, i+1, 1)
	}
	// Hold the urgent ones back after the first two: they wait until the
	// plain one has had its turn, then take theirs.
	if l.TryLock() {
		t.Fatal("TryLock took a held lock")
	}
	l.Unlock()
	wg.Wait()
	if len(order) != 5 || order[2] != "plain" {
		t.Fatalf("order %v, want the plain waiter third", order)
	}
	for i, name := range order {
		if i != 2 && name == "plain" {
			t.Fatalf("order %v", order)
		}
	}
	if !l.TryLock() {
		t.Fatal("TryLock failed on a free lock")
	}
	l.Unlock()
}

// TestBookkeepingRidesThePush: while pushes come, the marks of several
// backends are held back and committed together after the next push's
// commit, in one relaxed commit.
func TestBookkeepingRidesThePush(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	backends := []string{"b0", "b1", "b2", "b3", "b4", "b5", "b6"}
	if err := s.Forget(ctx, backends); err != nil {
		t.Fatal(err)
	}
	s.books.linger = time.Hour // only a push starts the held-back group
	z := mustPut(t, s, "a.example", 1)
	s.lastPush.Store(time.Now().Add(time.Hour).UnixNano()) // pushes keep coming
	relaxed0, merged0 := s.relaxed.Load(), s.mergedMarks.Load()
	var wg sync.WaitGroup
	errs := make([]error, len(backends))
	for i, b := range backends {
		wg.Go(func() { errs[i] = s.Applied(ctx, b, []store.Applied{{Name: z.Name, Version: z.Version, Hash: z.Hash}}) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.books.mu.Lock()
		n := len(s.books.queue)
		s.books.mu.Unlock()
		if n == len(backends) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d marks queued, want %d held back", n, len(backends))
		}
		time.Sleep(time.Millisecond)
	}
	if n := s.relaxed.Load() - relaxed0; n != 0 {
		t.Fatalf("%d bookkeeping commits before the next push", n)
	}
	mustPut(t, s, "b.example", 1)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", backends[i], err)
		}
	}
	if n := s.relaxed.Load() - relaxed0; n != 1 {
		t.Fatalf("%d bookkeeping commits for the marks of %d backends, want 1", n, len(backends))
	}
	if n := s.mergedMarks.Load() - merged0; n != 1 {
		t.Fatalf("the marks of %d backends took %d merged statements, want 1", len(backends), n)
	}
	for _, b := range backends {
		if sum, err := s.Summary(ctx, b); err != nil || sum.Behind != 1 || sum.Applied != 1 {
			t.Fatalf("%s: %+v, %v", b, sum, err)
		}
	}
}

// TestMergedMarks: the marks of several backends grouped in one commit are
// recorded in one statement with the semantics of separate calls (a mark
// older than the desired version leaves the zone due); a group that marks
// one zone twice for one backend is recorded one write at a time, in
// order.
func TestMergedMarks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	s.books.linger = 0
	backends := []string{"b0", "b1", "b2"}
	if err := s.Forget(ctx, backends); err != nil {
		t.Fatal(err)
	}
	v1 := mustPut(t, s, "a.example", 1)
	v2 := mustPut(t, s, "a.example", 2)
	mark := func(z store.Zone) []store.Applied {
		return []store.Applied{{Name: z.Name, Version: z.Version, Hash: z.Hash}}
	}
	group := func(calls ...func() error) {
		t.Helper()
		s.wmu.Lock()
		var wg sync.WaitGroup
		for i, call := range calls {
			wg.Go(func() {
				if err := call(); err != nil {
					t.Error(err)
				}
			})
			waitQueuedIn(t, &s.books, i) // the first leads alone, the rest share the next commit
		}
		s.wmu.Unlock()
		wg.Wait()
	}
	applied := func(backend string, z store.Zone) func() error {
		return func() error { return s.Applied(ctx, backend, mark(z)) }
	}
	merged0 := s.mergedMarks.Load()
	group(applied("b0", v2), applied("b1", v1), applied("b2", v2))
	if n := s.mergedMarks.Load() - merged0; n != 1 {
		t.Fatalf("%d merged statements, want 1", n)
	}
	states, err := s.BackendStates(ctx, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"b0": 2, "b1": 1, "b2": 2}
	for _, st := range states {
		if st.AppliedVersion != want[st.Backend] || (st.State == store.StateApplied) != (want[st.Backend] == 2) {
			t.Fatalf("%s: applied %d, state %s; want version %d", st.Backend, st.AppliedVersion, st.State, want[st.Backend])
		}
	}
	for _, b := range backends {
		if sum, err := s.Summary(ctx, b); err != nil || sum.LastApplied.IsZero() {
			t.Fatalf("%s: last applied not recorded: %+v, %v", b, sum, err)
		}
	}
	// b1 marked twice in one group: recorded in order, v2 last.
	v3 := mustPut(t, s, "a.example", 3)
	merged0 = s.mergedMarks.Load()
	group(applied("b0", v3), applied("b1", v2), applied("b1", v3))
	if n := s.mergedMarks.Load() - merged0; n != 0 {
		t.Fatalf("a group marking one zone twice for one backend went through the merged statement")
	}
	states, err = s.BackendStates(ctx, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Backend != "b2" && (st.AppliedVersion != 3 || st.State != store.StateApplied) {
			t.Fatalf("%s: applied %d, state %s; want 3, applied", st.Backend, st.AppliedVersion, st.State)
		}
	}
}

// TestFailedSyncStopsDurableWrites: once fdatasync of the log has failed,
// no push or delete is acknowledged again, even when later syncs would
// succeed (the kernel may have dropped the pages the failed one could not
// write); what was committed before stays readable.
func TestFailedSyncStopsDurableWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, err := s.Put(ctx, testZone("before.example", 1)); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	s.wal.mu.Lock()
	s.wal.datasync = func(fd int) error {
		if calls.Add(1) == 1 {
			return syscall.EIO
		}
		return syscall.Fdatasync(fd)
	}
	s.wal.mu.Unlock()
	_, err := s.Put(ctx, testZone("failed.example", 1))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("push over a failing sync: %v, want EIO", err)
	}
	for i := range 3 {
		if _, err := s.Put(ctx, testZone(fmt.Sprintf("after%d.example", i), 1)); err == nil || !strings.Contains(err.Error(), "until dadns restarts") {
			t.Fatalf("push %d after the failed sync: %v", i, err)
		}
	}
	if _, err := s.Delete(ctx, "before.example"); err == nil {
		t.Fatal("delete acknowledged after a failed sync")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d fdatasync calls, want only the failed one", n)
	}
	// Refused before they were written: neither the pushes nor the
	// delete after the failure changed anything.
	if _, err := s.Get(ctx, "before.example"); err != nil {
		t.Fatalf("zone committed before the failure, deleted after it: %v", err)
	}
	if _, err := s.Get(ctx, "after0.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a push refused after the failure was stored: %v", err)
	}
}
