package dispatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/memory"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// countingStore counts Due calls.
type countingStore struct {
	store.Store
	dues atomic.Int32
}

func (c *countingStore) Due(ctx context.Context, backend string, limit int) ([]store.Work, time.Time, error) {
	c.dues.Add(1)
	return c.Store.Due(ctx, backend, limit)
}

// TestPassSaysWhetherMoreMayBeDue: a pass that applied a short batch
// whole tells Run that nothing more was due when it read the store; a
// full batch or a failure sends Run back to the store at once.
func TestPassSaysWhetherMoreMayBeDue(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := NewWorker("mem", mem, e.st, Options{Now: e.clk.Now, BatchSize: 2, Logger: w0(t)})
	e.push("a.example", 1)
	if p := w.runOnce(context.Background(), true); p.n != 1 || p.err != nil || p.more {
		t.Fatalf("short batch applied whole: %+v, want n=1 more=false", p)
	}
	e.push("b.example", 1)
	e.push("c.example", 1)
	if p := w.runOnce(context.Background(), true); p.n != 2 || p.err != nil || !p.more {
		t.Fatalf("full batch: %+v, want n=2 more=true", p)
	}
	if p := w.runOnce(context.Background(), true); p.n != 0 || p.more {
		t.Fatalf("nothing due: %+v", p)
	}
	mem.FailZone("d.example", fmt.Errorf("boom"))
	e.push("d.example", 1)
	if p := w.runOnce(context.Background(), true); p.n != 1 || p.err != nil || !p.more {
		t.Fatalf("failed batch: %+v, want n=1 more=true", p)
	}
}

// wakeOnApply pushes a newer version of a zone from inside the backend's
// Apply, after the worker read its batch, as a push landing meanwhile
// would, and wakes the worker as push.Service's Changed does.
type wakeOnApply struct {
	*memory.Backend
	once   sync.Once
	during func()
}

func (b *wakeOnApply) Apply(ctx context.Context, zs []*zone.Zone) error {
	b.once.Do(b.during)
	return b.Backend.Apply(ctx, zs)
}

// TestPushDuringApplyIsTaken: the worker no longer reads the store again
// after a short batch; a push committed while it applied must still be
// applied at once (its wake-up), not at the idle poll an hour later.
func TestPushDuringApplyIsTaken(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.st}
	b := &wakeOnApply{Backend: memory.New()}
	w := NewWorker("mem", b, cs, Options{BatchSize: 50, Idle: time.Hour, Logger: w0(t)})
	var newer *zone.Zone
	b.during = func() {
		newer = e.push("a.example", 2)
		w.Wake()
	}
	e.push("a.example", 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := b.Zone(context.Background(), "a.example")
		if err == nil && newer != nil && got.Hash() == newer.Hash() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the version pushed during an apply was not applied")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOneReadPerPushWhenIdle: one push to an idle worker costs one Due,
// not a second, empty one before the worker sleeps again.
func TestOneReadPerPushWhenIdle(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.st}
	applied := make(chan int, 16)
	w := NewWorker("mem", memory.New(), cs, Options{BatchSize: 50, Idle: time.Hour, Logger: w0(t),
		Observe: func(_ string, _ time.Duration, n, _ int) { applied <- n }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitIdleDue(t, cs, 1) // the first look finds nothing
	for i := range 3 {
		e.push(fmt.Sprintf("z%d.example", i), 1)
		w.Wake()
		waitBatch(t, applied)
		// The pass is recorded before the worker decides to sleep; a
		// further pass would show as an extra Due soon after.
		waitIdleDue(t, cs, int32(2+i))
	}
}

// waitIdleDue waits until Due was called want times, then checks that no
// further call follows within a short while (the worker sleeps).
func waitIdleDue(t *testing.T, cs *countingStore, want int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for cs.dues.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("Due called %d times, want %d", cs.dues.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if got := cs.dues.Load(); got != want {
		t.Fatalf("Due called %d times, want %d: the worker read the store again before sleeping", got, want)
	}
}
