package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/backend/memory"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/zone"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	t   *testing.T
	st  store.Store
	clk *clock
}

func newEnv(t *testing.T) *env {
	clk := &clock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, st: st, clk: clk}
}

func (e *env) worker(name string, b backend.Backend) *Worker {
	return NewWorker(name, b, e.st, Options{Now: e.clk.Now, BatchSize: 50, Logger: w0(e.t)})
}

// w0 is a logger that discards.
func w0(testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) push(name string, serial int) *zone.Zone {
	e.t.Helper()
	z := backendtest.Zone(e.t, name, serial)
	if _, err := e.st.Put(context.Background(), store.Zone{Name: name, Canonical: z.Text(), Original: z.Text(),
		Hash: z.Hash(), Serial: z.Serial, OwnerHost: "da1"}); err != nil {
		e.t.Fatal(err)
	}
	return z
}

// drain runs passes until nothing is due; returns zones handled.
func drain(t *testing.T, w *Worker) int {
	t.Helper()
	total := 0
	for i := 0; i < 1000; i++ {
		n, _, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("worker never drained")
	return 0
}

func (e *env) state(zoneName, b string) store.BackendState {
	e.t.Helper()
	sts, err := e.st.BackendStates(context.Background(), zoneName)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range sts {
		if s.Backend == b {
			return s
		}
	}
	e.t.Fatalf("no state for %s on %s", zoneName, b)
	return store.BackendState{}
}

func mustHold(t *testing.T, b backend.Backend, z *zone.Zone) {
	t.Helper()
	got, err := b.Zone(context.Background(), z.Name)
	if err != nil || got.Hash() != z.Hash() {
		t.Fatalf("%s: backend does not serve the latest push (%v)", z.Name, err)
	}
}

func TestAppliesAndVerifies(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", mem)
	var zs []*zone.Zone
	for i := 0; i < 120; i++ {
		zs = append(zs, e.push(fmt.Sprintf("z%03d.example", i), 1))
	}
	if n := drain(t, w); n != 120 {
		t.Fatalf("handled %d zones, want 120", n)
	}
	for _, z := range zs {
		mustHold(t, mem, z)
	}
	if _, batches := mem.Stats(); len(batches) != 3 {
		t.Fatalf("batches %v, want 3 batches of at most 50", batches)
	}
	if s := e.state("z000.example", "mem"); s.State != store.StateApplied || s.AppliedHash != zs[0].Hash() {
		t.Fatalf("state %+v", s)
	}
}

func TestRetryScheduleAndReset(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", mem)
	e.push("bad.example", 1)
	mem.FailZone("bad.example", errors.New("disk on fire"))
	want := []time.Duration{30 * time.Second, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for i, d := range want {
		if n := drain(t, w); n != 1 {
			t.Fatalf("attempt %d: handled %d", i+1, n)
		}
		s := e.state("bad.example", "mem")
		if s.State != store.StateFailed || s.Attempts != i+1 || s.LastError == "" {
			t.Fatalf("attempt %d: state %+v", i+1, s)
		}
		if got := s.NextAttempt.Sub(e.clk.Now()); got != d {
			t.Fatalf("attempt %d: next retry in %v, want %v", i+1, got, d)
		}
		e.clk.Advance(d - time.Second)
		if n := drain(t, w); n != 0 {
			t.Fatalf("attempt %d: retried before its time", i+1)
		}
		e.clk.Advance(time.Second)
	}
	// A newer push resets the schedule: due at once, attempts from zero.
	z := e.push("bad.example", 2)
	mem.FailZone("bad.example", nil)
	if n := drain(t, w); n != 1 {
		t.Fatal("newer push not applied at once")
	}
	mustHold(t, mem, z)
	if s := e.state("bad.example", "mem"); s.State != store.StateApplied {
		t.Fatalf("state %+v", s)
	}
}

func TestPermanentFailureWaitsForChange(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", mem)
	e.push("perm.example", 1)
	mem.FailZone("perm.example", backend.Permanent(errors.New("record type not storable")))
	drain(t, w)
	if s := e.state("perm.example", "mem"); s.State != store.StatePermanent {
		t.Fatalf("state %+v", s)
	}
	e.clk.Advance(24 * time.Hour)
	if n := drain(t, w); n != 0 {
		t.Fatal("permanent failure retried without a change")
	}
	mem.FailZone("perm.example", nil)
	z := e.push("perm.example", 2)
	if n := drain(t, w); n != 1 {
		t.Fatal("changed zone not retried")
	}
	mustHold(t, mem, z)
}

func TestLevelTriggeredWhileDown(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", mem)
	mem.SetDown(errors.New("connection refused"))
	e.push("flap.example", 1)
	drain(t, w)
	var last *zone.Zone
	for i := 2; i <= 11; i++ {
		last = e.push("flap.example", i)
	}
	mem.SetDown(nil)
	e.clk.Advance(time.Second) // the next probe
	if n := drain(t, w); n != 1 {
		t.Fatalf("handled %d, want one apply of the latest version", n)
	}
	mustHold(t, mem, last)
	if applies, _ := mem.Stats(); applies != 1 {
		t.Fatalf("%d applies, want 1", applies)
	}
}

func TestDeleteThenRecreate(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", mem)
	e.push("cycle.example", 1)
	drain(t, w)
	if _, err := e.st.Delete(context.Background(), "cycle.example"); err != nil {
		t.Fatal(err)
	}
	drain(t, w)
	if _, err := mem.Zone(context.Background(), "cycle.example"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatal("delete not applied")
	}
	// Delete and re-create while the worker is idle: the latest state wins.
	e.push("cycle.example", 2)
	if _, err := e.st.Delete(context.Background(), "cycle.example"); err != nil {
		t.Fatal(err)
	}
	z := e.push("cycle.example", 3)
	drain(t, w)
	mustHold(t, mem, z)
}

func TestNewBackendIsFilledAndRemovedOneForgotten(t *testing.T) {
	e := newEnv(t)
	a, b := memory.New(), memory.New()
	for i := 0; i < 30; i++ {
		e.push(fmt.Sprintf("fill%02d.example", i), 1)
	}
	drain(t, e.worker("a", a))
	if n := drain(t, e.worker("b", b)); n != 30 {
		t.Fatalf("new backend got %d zones, want 30", n)
	}
	d := New(e.st, map[string]backend.Backend{"b": b}, Options{Now: e.clk.Now})
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	d.Wait()
	sts, _ := e.st.BackendStates(context.Background(), "fill00.example")
	for _, s := range sts {
		if s.Backend == "a" {
			t.Fatal("removed backend still has state")
		}
	}
}

// blocking wraps a backend so Apply waits for release.
type blocking struct {
	*memory.Backend
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blocking) Apply(ctx context.Context, zs []*zone.Zone) error {
	b.once.Do(func() { close(b.started) })
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.Backend.Apply(ctx, zs)
}

func TestSlowBackendDoesNotDelayOthers(t *testing.T) {
	e := newEnv(t)
	fast := memory.New()
	slow := &blocking{Backend: memory.New(), started: make(chan struct{}), release: make(chan struct{})}
	d := New(e.st, map[string]backend.Backend{"fast": fast, "slow": slow},
		Options{Now: e.clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); d.Wait() }()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var zs []*zone.Zone
	for i := 0; i < 20; i++ {
		zs = append(zs, e.push(fmt.Sprintf("par%02d.example", i), 1))
	}
	d.Notify()
	<-slow.started
	deadline := time.Now().Add(30 * time.Second)
	for {
		names, _ := fast.Zones(context.Background())
		if len(names) == len(zs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fast backend has %d of %d zones while slow one is stuck", len(names), len(zs))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Shutdown while the slow batch is in flight leaves it pending.
	cancel()
	d.Wait()
	due, _, err := e.st.Due(context.Background(), "slow", 100)
	if err != nil || len(due) != len(zs) {
		t.Fatalf("slow backend: %d zones still due after shutdown, want %d (%v)", len(due), len(zs), err)
	}
}

func TestUnparsableStoredZoneIsPermanent(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	if _, err := e.st.Put(context.Background(), store.Zone{Name: "broken.example", Canonical: "not a zone", OwnerHost: "da1"}); err != nil {
		t.Fatal(err)
	}
	drain(t, e.worker("mem", mem))
	if s := e.state("broken.example", "mem"); s.State != store.StatePermanent {
		t.Fatalf("state %+v", s)
	}
}

func TestBackoff(t *testing.T) {
	if backoff(nil, 0) != 30*time.Second || backoff(nil, 99) != 30*time.Minute || backoff(nil, -1) != 30*time.Second {
		t.Fatal("backoff schedule wrong")
	}
}

func TestWorkerUsesPushTimeParse(t *testing.T) {
	e := newEnv(t)
	cache := zone.NewCache(8)
	z := e.push("cached.example", 1)
	cache.Put(z)
	mem := memory.New()
	w := NewWorker("mem", mem, e.st, Options{Now: e.clk.Now, Parsed: cache, Logger: w0(t)})
	drain(t, w)
	got, err := mem.Zone(context.Background(), "cached.example")
	if err != nil || got != z {
		t.Fatalf("worker parsed again instead of using the cached zone (%v)", err)
	}
}

// TestWorkersShareAParse checks that a zone one worker had to parse from
// the store (not in the push-time cache) is the zone a second worker
// applies: one parse for every backend.
func TestWorkersShareAParse(t *testing.T) {
	e := newEnv(t)
	cache := zone.NewCache(8)
	z := e.push("shared.example", 1)
	first, second := memory.New(), memory.New()
	drain(t, NewWorker("first", first, e.st, Options{Now: e.clk.Now, Parsed: cache, Logger: w0(t)}))
	drain(t, NewWorker("second", second, e.st, Options{Now: e.clk.Now, Parsed: cache, Logger: w0(t)}))
	a, err := first.Zone(context.Background(), "shared.example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := second.Zone(context.Background(), "shared.example")
	if err != nil {
		t.Fatal(err)
	}
	if a == z || a.Hash() != z.Hash() {
		t.Fatalf("the first worker did not parse the stored zone")
	}
	if b != a {
		t.Fatalf("the second worker parsed the zone again instead of taking the first one's parse")
	}
}

type bigBatches struct{ *memory.Backend }

func (bigBatches) BatchSize() int { return 70 }

func TestBackendChoosesBatchSize(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	for i := 0; i < 100; i++ {
		e.push(fmt.Sprintf("bb%03d.example", i), 1)
	}
	drain(t, e.worker("mem", bigBatches{mem})) // the env's default is 50
	if _, batches := mem.Stats(); len(batches) != 2 || batches[0] != 70 {
		t.Fatalf("batches %v, want 70 then 30", batches)
	}
}

// growingBatches wants batches of a tenth of the zones it holds, at
// least 10 (as bind's BatchSize grows with the zones named holds).
type growingBatches struct{ *memory.Backend }

func (g growingBatches) BatchSize() int {
	n, _ := g.Stats()
	return max(10, n/10)
}

// TestBatchSizeAskedEveryBatch checks that the worker asks a Batcher for
// its size before every read of due zones, not once at the start.
func TestBatchSizeAskedEveryBatch(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	for i := 0; i < 300; i++ {
		e.push(fmt.Sprintf("gb%03d.example", i), 1)
	}
	drain(t, e.worker("mem", growingBatches{mem}))
	_, batches := mem.Stats()
	held, want := 0, []int{}
	for held < 300 {
		n := min(max(10, held/10), 300-held)
		want = append(want, n)
		held += n
	}
	if !slices.Equal(batches, want) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
}

func TestObserveHearsEveryBatch(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	var batches, applied, failed int
	w := NewWorker("mem", mem, e.st, Options{Now: e.clk.Now, BatchSize: 2, Logger: w0(t),
		Observe: func(backend string, took time.Duration, a, f int) {
			if backend != "mem" || took < 0 {
				t.Errorf("observed %s %v", backend, took)
			}
			batches, applied, failed = batches+1, applied+a, failed+f
		}})
	for i := range 5 {
		e.push(fmt.Sprintf("obs%d.example", i), 1)
	}
	drain(t, w)
	if batches != 3 || applied != 5 || failed != 0 {
		t.Fatalf("observed %d batches, %d applied, %d failed; want 3, 5, 0", batches, applied, failed)
	}
}

// TestApplyDropsParsedTexts checks that once a batch's zones are parsed
// the work keeps no copy of their stored text (the parsed zones have
// it) while the backend applies them, and that the zones applied, and
// a zone whose text does not parse, come out as before.
func TestApplyDropsParsedTexts(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", mem)
	zs := []*zone.Zone{e.push("t1.example", 1), e.push("t2.example", 1)}
	if _, err := e.st.Put(context.Background(), store.Zone{Name: "broken.example", Canonical: "not a zone", OwnerHost: "da1"}); err != nil {
		t.Fatal(err)
	}
	due, _, err := e.st.Due(context.Background(), "mem", 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("due %d zones, want 3 (%v)", len(due), err)
	}
	for _, wk := range due {
		if wk.Zone.Canonical == "" {
			t.Fatalf("%s: due without its text", wk.Zone.Name)
		}
	}
	res := w.apply(context.Background(), due, nil)
	if len(res.applied) != 2 || len(res.failed) != 1 || res.failed[0].Name != "broken.example" || !res.failed[0].Permanent {
		t.Fatalf("applied %v, failed %v; want the two zones applied and broken.example failed for good", res.applied, res.failed)
	}
	for _, wk := range due {
		if wk.Zone.Canonical != "" {
			t.Errorf("%s: the work still holds the stored text after parsing", wk.Zone.Name)
		}
	}
	for _, z := range zs {
		got, err := mem.Zone(context.Background(), z.Name)
		if err != nil || got.Hash() != z.Hash() {
			t.Errorf("%s: applied %v (%v), want hash %s", z.Name, got, err, z.Hash())
		}
	}
}
