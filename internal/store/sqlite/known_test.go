package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// TestKnownBackendSkipsLookup: once a backend is registered, Due and
// Applied do not read the backends table again (one statement fewer
// each); Forget makes the store look again, and a forgotten backend that
// comes back is registered afresh with every zone due.
func TestKnownBackendSkipsLookup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustPut(t, s, "a.example", 1)
	mustPut(t, s, "b.example", 1)
	due := func() (int, int64) {
		t.Helper()
		before := s.statements.Load()
		w, _, err := s.Due(ctx, "bind", 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(w), s.statements.Load() - before
	}
	if n, _ := due(); n != 2 {
		t.Fatalf("first Due: %d zones, want 2", n)
	}
	_, known := s.known.has("bind")
	if !known {
		t.Fatal("a registered backend is not remembered")
	}
	_, stmts := due()
	if _, again := due(); again != stmts {
		t.Fatalf("Due ran %d then %d statements", stmts, again)
	}
	// A Due that looked the backend up ran one statement more.
	s.known.reset()
	if _, looked := due(); looked != stmts+1 {
		t.Fatalf("Due after reset ran %d statements, want %d", looked, stmts+1)
	}

	applyAll(t, s, "bind")
	if n, _ := due(); n != 0 {
		t.Fatalf("after Applied: %d zones due", n)
	}
	if err := s.Forget(ctx, []string{"other"}); err != nil {
		t.Fatal(err)
	}
	if _, known := s.known.has("bind"); known {
		t.Fatal("Forget left a forgotten backend remembered")
	}
	if n, _ := due(); n != 2 {
		t.Fatalf("a forgotten backend that comes back: %d zones due, want 2", n)
	}
}

// TestKnownBackendsGeneration: a lookup that began before Forget does not
// remember what it saw.
func TestKnownBackendsGeneration(t *testing.T) {
	var k knownBackends
	gen, _ := k.has("bind")
	k.reset()
	k.add("bind", gen)
	if _, ok := k.has("bind"); ok {
		t.Fatal("a name seen before a reset was remembered after it")
	}
	gen, _ = k.has("bind")
	k.add("bind", gen)
	if _, ok := k.has("bind"); !ok {
		t.Fatal("name not remembered")
	}
}

// TestWarmReads: small reads run on the writer connection when it is free
// and on a reader when a write holds it, with the same answers; a due
// batch that reaches the warm bound is read again whole.
func TestWarmReads(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i := range 2 * warmDue {
		mustPut(t, s, fmt.Sprintf("z%02d.example", i), 1)
	}
	live := func() map[string]store.Zone {
		t.Helper()
		got, err := s.Live(ctx, []string{"z01.example", "z02.example", "absent.example"})
		if err != nil || len(got) != 2 || got["z01.example"].Version != 1 {
			t.Fatalf("Live: %v, %v", got, err)
		}
		return got
	}
	before := s.warmReads.Load()
	warm := live()
	if s.warmReads.Load() != before+1 {
		t.Fatal("a small lookup with the writer free did not read on it")
	}
	s.wmu.Lock()
	cold := live()
	s.wmu.Unlock()
	if s.warmReads.Load() != before+1 {
		t.Fatal("a lookup read on the writer while a write held it")
	}
	if fmt.Sprint(warm) != fmt.Sprint(cold) {
		t.Fatalf("warm and cold lookups differ:\n%v\n%v", warm, cold)
	}

	for _, tc := range []struct{ limit, want int }{{4, 4}, {warmDue, warmDue}, {1000, 2 * warmDue}} {
		w, _, err := s.Due(ctx, "bind", tc.limit)
		if err != nil || len(w) != tc.want {
			t.Fatalf("Due limit %d: %d zones (%v), want %d", tc.limit, len(w), err, tc.want)
		}
		for i, x := range w {
			if want := fmt.Sprintf("z%02d.example", i); x.Zone.Name != want || x.Zone.Canonical == "" {
				t.Fatalf("Due limit %d: zone %d is %q (text %d bytes), want %s in push order", tc.limit, i, x.Zone.Name, len(x.Zone.Canonical), want)
			}
		}
	}
	// The last Due was a big batch: the next goes straight to a reader;
	// once a batch is small again, the one after it reads warm.
	before = s.warmReads.Load()
	if w, _, err := s.Due(ctx, "bind", 1000); err != nil || len(w) != 2*warmDue || s.warmReads.Load() != before {
		t.Fatalf("Due during a burst: %d zones, %v, %d warm reads", len(w), err, s.warmReads.Load()-before)
	}
	applyAll(t, s, "bind")
	mustPut(t, s, "z00.example", 2)
	for range 2 {
		if w, _, err := s.Due(ctx, "bind", 100); err != nil || len(w) != 1 {
			t.Fatalf("Due after the burst: %d zones, %v", len(w), err)
		}
	}
	if got := s.warmReads.Load() - before; got != 1 {
		t.Fatalf("%d warm reads after the burst, want 1 (the second Due)", got)
	}

	// A worker's Due waits for a write in progress rather than read
	// cold, and then sees it.
	s.wmu.Lock()
	got := make(chan []store.Work, 1)
	go func() {
		w, _, err := s.Due(ctx, "bind", 5)
		if err != nil {
			t.Error(err)
		}
		got <- w
	}()
	mustPutLocked(t, s, "z01.example", 2)
	s.wmu.Unlock()
	if w := <-got; len(w) != 2 {
		t.Fatalf("Due after the write it waited for: %d zones, want 2", len(w))
	}
}

// mustPutLocked stores a new version of name with wmu already held (as a
// group commit's leader holds it).
func mustPutLocked(t *testing.T, s *Store, name string, serial uint32) {
	t.Helper()
	z, err := store.PreparePut(testZone(name, serial))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.writer.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.putTx(context.Background(), tx, z, s.now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// watchedCtx counts how often anything asks for its Done channel (to
// watch it, as database/sql and the driver do per statement).
type watchedCtx struct {
	context.Context
	watched atomic.Int32
}

func (c *watchedCtx) Done() <-chan struct{} {
	c.watched.Add(1)
	return c.Context.Done()
}

// TestOwnerLookupUnwatched: a push's ownership lookup (Live of one name)
// checks its context once and starts no watcher of it, warm or cold, and
// still refuses a context that has ended; a big lookup keeps watching.
func TestOwnerLookupUnwatched(t *testing.T) {
	s, _ := openTest(t)
	mustPut(t, s, "a.example", 1)
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, writerBusy := range []bool{false, true} {
		if writerBusy {
			s.wmu.Lock()
		}
		ctx := &watchedCtx{Context: parent}
		got, err := s.Live(ctx, []string{"a.example", "b.example"})
		if writerBusy {
			s.wmu.Unlock()
		}
		if err != nil || len(got) != 1 || got["a.example"].Version != 1 {
			t.Fatalf("writer busy %v: Live %v, %v", writerBusy, got, err)
		}
		if n := ctx.watched.Load(); n != 0 {
			t.Errorf("writer busy %v: the context was watched %d times", writerBusy, n)
		}
	}
	names := make([]string, warmNames+1)
	for i := range names {
		names[i] = fmt.Sprintf("n%d.example", i)
	}
	ctx := &watchedCtx{Context: parent}
	if _, err := s.Live(ctx, names); err != nil {
		t.Fatal(err)
	}
	if ctx.watched.Load() == 0 {
		t.Error("a lookup of many names did not watch its context")
	}
	cancel()
	if got, err := s.Live(parent, []string{"a.example"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Live with an ended context: %v, %v", got, err)
	}
}

// TestWarmDueUnwatched: a worker's Due of a few zones, read on the writer
// connection, starts no watcher of its context and still refuses a
// context that has ended.
func TestWarmDueUnwatched(t *testing.T) {
	s, _ := openTest(t)
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, _, err := s.Due(parent, "bind", 10); err != nil { // registers the backend
		t.Fatal(err)
	}
	mustPut(t, s, "a.example", 1)
	mustPut(t, s, "b.example", 1)
	before := s.warmReads.Load()
	ctx := &watchedCtx{Context: parent}
	w, _, err := s.Due(ctx, "bind", 10)
	if err != nil || len(w) != 2 || w[0].Zone.Name != "a.example" || s.warmReads.Load() != before+1 {
		t.Fatalf("Due: %d zones, %v, %d warm reads", len(w), err, s.warmReads.Load()-before)
	}
	if n := ctx.watched.Load(); n != 0 {
		t.Errorf("the context was watched %d times", n)
	}
	cancel()
	if w, _, err := s.Due(parent, "bind", 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Due with an ended context: %d zones, %v", len(w), err)
	}
}
