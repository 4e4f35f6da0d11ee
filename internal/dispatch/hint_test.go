package dispatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/backend/memory"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// gatedStore makes every Due wait while its gate is closed, as reads wait
// for a store whose writer is busy with other backends' bookkeeping.
type gatedStore struct {
	store.Store
	mu     sync.Mutex
	gate   chan struct{} // nil: open
	dues   atomic.Int32
	waited atomic.Int32 // Due calls that met the closed gate
}

func (g *gatedStore) close() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedStore) open() {
	g.mu.Lock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
	g.mu.Unlock()
}

func (g *gatedStore) Due(ctx context.Context, backend string, limit int) ([]store.Work, time.Time, error) {
	g.dues.Add(1)
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		g.waited.Add(1)
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		}
	}
	return g.Store.Due(ctx, backend, limit)
}

// stuck is a backend whose Apply waits until released (a slow daemon).
type stuck struct {
	*memory.Backend
	release chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (b *stuck) Apply(ctx context.Context, zs []*zone.Zone) error {
	b.once.Do(func() { close(b.entered) })
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.Backend.Apply(ctx, zs)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func serves(b *memory.Backend, z *zone.Zone) bool {
	got, err := b.Zone(context.Background(), z.Name)
	return err == nil && got.Hash() == z.Hash()
}

// TestFastBackendNotHeldUpBySlowOnes pushes through push.Service wired as
// dadns serve wires one node, while another backend's Apply is blocked and
// every read of the store waits (its writer busy): the fast backend
// serves the push all the same, from the change handed to its worker.
// Once the store answers and the slow backend is released, both catch up
// and the store records both as applied.
func TestFastBackendNotHeldUpBySlowOnes(t *testing.T) {
	e := newEnv(t)
	gs := &gatedStore{Store: e.st}
	fast := memory.New()
	slow := &stuck{Backend: memory.New(), release: make(chan struct{}), entered: make(chan struct{})}
	d := New(gs, map[string]backend.Backend{"fast": fast, "slow": slow}, Options{Logger: w0(t), Idle: time.Hour})
	svc := push.New(push.Options{Store: e.st, Logger: w0(t), Committed: d.Committed})
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			close(slow.release)
		}
		cancel()
		d.Wait()
	}()
	// Both workers have read the (empty) store once and sleep.
	waitFor(t, "first reads", 10*time.Second, func() bool { return gs.dues.Load() >= 2 })

	save := func(serial int) *zone.Zone {
		z := backendtest.Zone(t, "fast.example", serial)
		if _, err := svc.Save(context.Background(), z.Name, []byte(z.Text()), "da1", "u"); err != nil {
			t.Fatal(err)
		}
		return z
	}
	save(1)
	<-slow.entered // the slow backend is stuck in its Apply
	waitFor(t, "fast backend serves the first push", 10*time.Second, func() bool { return fast.Calls() > 0 })
	gs.close()
	z2 := save(2)
	waitFor(t, "fast backend serves a push while the slow one is blocked and store reads wait", 10*time.Second,
		func() bool { return serves(fast, z2) })
	z3 := save(3)
	waitFor(t, "and the next one", 10*time.Second, func() bool { return serves(fast, z3) })

	gs.open()
	close(slow.release)
	released = true
	waitFor(t, "slow backend catches up", 10*time.Second, func() bool { return serves(slow.Backend, z3) })
	waitFor(t, "both recorded as applied", 10*time.Second, func() bool {
		for _, b := range []string{"fast", "slow"} {
			if s := e.state("fast.example", b); s.State != store.StateApplied || s.AppliedHash != z3.Hash() {
				return false
			}
		}
		return true
	})
}

// TestHintCoveredByReadIsDropped: a hint queued before a newer version
// committed is dropped by the pass that read the newer version, so the
// backend never goes back to the older one.
func TestHintCoveredByReadIsDropped(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.st}
	mem := memory.New()
	w := NewWorker("mem", mem, cs, Options{Now: e.clk.Now, BatchSize: 50, Logger: w0(t)})
	ctx := context.Background()
	z1 := e.push("order.example", 1)
	w.Hint(e.row("order.example"), z1) // queued before version 2 commits
	z2 := e.push("order.example", 2)
	if p := w.runOnce(ctx, true); p.n != 1 || p.err != nil {
		t.Fatalf("pass: %+v", p)
	}
	mustHold(t, mem, z2)
	if p := w.runOnce(ctx, false); p.n != 0 {
		t.Fatalf("a covered hint was applied again: %+v", p)
	}
	mustHold(t, mem, z2)
	if err := w.rec.flush(); err != nil {
		t.Fatal(err)
	}
	if s := e.state("order.example", "mem"); s.State != store.StateApplied || s.AppliedVersion != 2 {
		t.Fatalf("state %+v", s)
	}
}

// TestHintsApplyNewestWithoutReading: hints alone are applied without a
// store read, several changes of one zone as one (the newest), and
// recorded as applied.
func TestHintsApplyNewestWithoutReading(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.st}
	mem := memory.New()
	w := NewWorker("mem", mem, cs, Options{Now: e.clk.Now, BatchSize: 50, Logger: w0(t)})
	ctx := context.Background()
	var last *zone.Zone
	for v := 1; v <= 3; v++ {
		last = e.push("many.example", v)
		w.Hint(e.row("many.example"), last)
	}
	other := e.push("other.example", 1)
	w.Hint(e.row("other.example"), other)
	if p := w.runOnce(ctx, false); p.n != 2 || p.err != nil || p.more {
		t.Fatalf("pass: %+v", p)
	}
	if n := cs.dues.Load(); n != 0 {
		t.Fatalf("%d store reads for hinted changes", n)
	}
	if _, batches := mem.Stats(); len(batches) != 1 || batches[0] != 2 {
		t.Fatalf("batches %v, want one of 2 zones", batches)
	}
	mustHold(t, mem, last)
	mustHold(t, mem, other)
	if err := w.rec.flush(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"many.example", "other.example"} {
		if s := e.state(n, "mem"); s.State != store.StateApplied {
			t.Fatalf("%s: state %+v", n, s)
		}
	}
	// Nothing is left due.
	if p := w.runOnce(ctx, true); p.n != 0 {
		t.Fatalf("due after hinted pass: %+v", p)
	}
}

// TestHintedDeleteAndFailure: a tombstone hint deletes; a hinted change
// that fails is recorded with its retry like any other.
func TestHintedDeleteAndFailure(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := NewWorker("mem", mem, e.st, Options{Now: e.clk.Now, BatchSize: 50, Logger: w0(t)})
	ctx := context.Background()
	e.push("gone.example", 1)
	drain(t, w)
	row, err := e.st.Delete(ctx, "gone.example")
	if err != nil {
		t.Fatal(err)
	}
	w.Hint(row, nil)
	if p := w.runOnce(ctx, false); p.n != 1 || p.err != nil {
		t.Fatalf("delete pass: %+v", p)
	}
	if _, err := mem.Zone(ctx, "gone.example"); err == nil {
		t.Fatal("hinted delete left the zone")
	}

	bad := e.push("bad.example", 1)
	mem.FailZone("bad.example", fmt.Errorf("disk on fire"))
	w.Hint(e.row("bad.example"), bad)
	p := w.runOnce(ctx, false)
	if p.n != 1 || !p.more || p.next != e.clk.Now().Add(30*time.Second) {
		t.Fatalf("failed pass: %+v", p)
	}
	if s := e.state("bad.example", "mem"); s.State != store.StateFailed || s.Attempts != 1 {
		t.Fatalf("state %+v", s)
	}
	if err := w.rec.flush(); err != nil {
		t.Fatal(err)
	}
	if s := e.state("gone.example", "mem"); s.State != store.StateApplied {
		t.Fatalf("tombstone state %+v", s)
	}
}

// TestLostHintsReadFromStore: hints past the queue's bound are dropped and
// the worker reads the store for them.
func TestLostHintsReadFromStore(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := NewWorker("mem", mem, e.st, Options{Now: e.clk.Now, BatchSize: 1000, Logger: w0(t)})
	ctx := context.Background()
	n := maxHints + 10
	for i := range n {
		name := fmt.Sprintf("z%03d.example", i)
		z := e.push(name, 1)
		w.Hint(e.row(name), z)
	}
	if p := w.runOnce(ctx, false); p.n != maxHints {
		t.Fatalf("hinted pass applied %d, want %d", p.n, maxHints)
	}
	if !w.wantDue.Load() {
		t.Fatal("lost hints did not ask for a store read")
	}
	if p := w.runOnce(ctx, true); p.n != 10 {
		t.Fatalf("store read applied %d, want the 10 lost", p.n)
	}
}

// slowApplied delays every Applied write.
type slowApplied struct {
	*countingStore
	delay time.Duration
}

func (s *slowApplied) Applied(ctx context.Context, backend string, done []store.Applied) error {
	time.Sleep(s.delay)
	return s.countingStore.Applied(ctx, backend, done)
}

// TestReadWaitsForAppliedMarks: applied marks are written in the
// background, but a store read waits for them, so it never returns a zone
// the backend already serves.
func TestReadWaitsForAppliedMarks(t *testing.T) {
	e := newEnv(t)
	st := &slowApplied{countingStore: &countingStore{Store: e.st}, delay: 100 * time.Millisecond}
	mem := memory.New()
	w := NewWorker("mem", mem, st, Options{Now: e.clk.Now, BatchSize: 50, Logger: w0(t)})
	ctx := context.Background()
	z := e.push("mark.example", 1)
	w.Hint(e.row("mark.example"), z)
	if p := w.runOnce(ctx, false); p.n != 1 {
		t.Fatalf("pass: %+v", p)
	}
	if p := w.runOnce(ctx, true); p.n != 0 {
		t.Fatalf("read returned the zone whose mark was still being written: %+v", p)
	}
	if _, batches := mem.Stats(); len(batches) != 1 {
		t.Fatalf("applied %d times", len(batches))
	}
}

// TestRunAppliesHintsWithoutReading: a running worker woken by hints
// applies them without reading the store; a plain wake reads it.
func TestRunAppliesHintsWithoutReading(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.st}
	mem := memory.New()
	w, stop := runWorker(t, mem, cs, cs)
	defer stop()
	for i := range 5 {
		name := fmt.Sprintf("h%d.example", i)
		z := e.push(name, 1)
		w.Hint(e.row(name), z)
		waitFor(t, "hinted zone served", 10*time.Second, func() bool { return serves(mem, z) })
	}
	if n := cs.dues.Load(); n != 1 {
		t.Fatalf("%d store reads, want only the first", n)
	}
	// A change not handed over (another writer) is found on a plain wake.
	z := e.push("plain.example", 1)
	w.Wake()
	waitFor(t, "plain wake reads the store", 10*time.Second, func() bool { return serves(mem, z) })
}

// runWorker runs a worker of mem over st (whose store reads cs counts)
// until stop, which waits for Run to return, once it has read the store
// a first time.
func runWorker(t *testing.T, mem *memory.Backend, st store.Store, cs *countingStore) (w *Worker, stop func()) {
	t.Helper()
	w = NewWorker("mem", mem, st, Options{BatchSize: 50, Idle: time.Hour, Logger: w0(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	waitFor(t, "first read", 10*time.Second, func() bool { return cs.dues.Load() == 1 })
	return w, func() { cancel(); <-done }
}

// row reads the zone's stored row.
func (e *env) row(name string) store.Zone {
	e.t.Helper()
	z, err := e.st.Lookup(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return z
}

// TestHintStreamStillReadsForRetries: a worker kept busy by hints still
// reads the store once a retry falls due, and at its idle poll's interval.
func TestHintStreamStillReadsForRetries(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := NewWorker("mem", mem, e.st, Options{Now: e.clk.Now, BatchSize: 50, Idle: time.Hour, Logger: w0(t)})
	ctx := context.Background()
	drain(t, w) // the first read
	bad := e.push("bad.example", 1)
	mem.FailZone("bad.example", fmt.Errorf("disk on fire"))
	w.Hint(e.row("bad.example"), bad)
	if p := w.runOnce(ctx, false); p.n != 1 {
		t.Fatalf("pass: %+v", p)
	}
	if w.readDueNow() {
		t.Fatal("reads the store before the retry is due")
	}
	e.clk.Advance(30 * time.Second)
	if !w.readDueNow() {
		t.Fatal("a retry fell due, but hints alone would keep the worker from the store")
	}
	mem.FailZone("bad.example", nil)
	if p := w.runOnce(ctx, true); p.n != 1 || p.err != nil {
		t.Fatalf("retry pass: %+v", p)
	}
	mustHold(t, mem, bad)
	if w.readDueNow() {
		t.Fatal("reads again with nothing due")
	}
	e.clk.Advance(time.Hour)
	if !w.readDueNow() {
		t.Fatal("no read at the idle poll's interval")
	}
}

// TestStopWritesMarksInFlight: a worker stopped right after applying a
// hinted change returns only once its applied mark is written, and a
// change whose hint it never took is found by the next worker's first
// read (a restart).
func TestStopWritesMarksInFlight(t *testing.T) {
	e := newEnv(t)
	st := &slowApplied{countingStore: &countingStore{Store: e.st}, delay: 200 * time.Millisecond}
	mem := memory.New()
	w, stop := runWorker(t, mem, st, st.countingStore)
	z := e.push("stop.example", 1)
	w.Hint(e.row("stop.example"), z)
	waitFor(t, "hinted zone served", 10*time.Second, func() bool { return serves(mem, z) })
	stop()
	if s := e.state("stop.example", "mem"); s.State != store.StateApplied {
		t.Fatalf("stopped with its mark unwritten: %+v", s)
	}

	// Handed to the stopped worker, never taken: the next one reads it.
	late := e.push("late.example", 1)
	w.Hint(e.row("late.example"), late)
	w2 := NewWorker("mem", mem, e.st, Options{BatchSize: 50, Logger: w0(t)})
	if n := drain(t, w2); n != 1 {
		t.Fatalf("restarted worker applied %d zones, want 1", n)
	}
	mustHold(t, mem, late)
}

// TestCommittedWakesFastBackendsLast: once each worker has applied a
// batch, Committed hands a change to the workers whose apply was slow
// first and to the fast ones last (Go runs the goroutine woken last
// first), whatever order the workers were built in.
func TestCommittedWakesFastBackendsLast(t *testing.T) {
	e := newEnv(t)
	backends := map[string]backend.Backend{"builtin": memory.New()}
	for _, n := range []string{"bind", "knot", "mysql"} {
		backends[n] = &slowApply{Backend: memory.New(), took: 2 * gatherMinApply}
	}
	d := New(e.st, backends, Options{Now: e.clk.Now, Logger: w0(t)})
	z := e.push("order.example", 1)
	for _, w := range d.Workers() {
		w.Hint(e.row("order.example"), z)
		if p := w.runOnce(context.Background(), false); p.n != 1 || p.err != nil {
			t.Fatalf("%s: pass %+v", w.Name(), p)
		}
	}
	order := d.wakeOrder(nil)
	if len(order) != len(backends) {
		t.Fatalf("wake order has %d workers, want %d", len(order), len(backends))
	}
	if last := order[len(order)-1]; last.Name() != "builtin" {
		var names []string
		for _, w := range order {
			names = append(names, w.Name())
		}
		t.Fatalf("wake order %v: the fast backend is not last", names)
	}
	z2 := e.push("order.example", 2)
	d.Committed(e.row("order.example"), z2)
	for _, w := range d.Workers() {
		if hs, _ := w.hints.take(); len(hs) != 1 || hs[0].row.Version != 2 {
			t.Fatalf("%s: hints after Committed: %+v", w.Name(), hs)
		}
	}
}
