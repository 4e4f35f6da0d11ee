package dispatch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/memory"
)

// repairing is a memory backend that counts its drift repairs.
type repairing struct {
	*memory.Backend
	repairs atomic.Int32
}

func (r *repairing) Repair(context.Context) error { r.repairs.Add(1); return nil }

// TestFirstRepairWaits runs a worker whose first drift repair must wait
// FirstRepairAfter (on the test clock): batches go on meanwhile without a
// repair, the repair comes once that time has passed, and only once.
// Without the option the repair follows the first drained queue.
func TestFirstRepairWaits(t *testing.T) {
	e := newEnv(t)
	b := &repairing{Backend: memory.New()}
	applied := make(chan int, 16)
	w := NewWorker("mem", b, e.st, Options{Now: e.clk.Now, Logger: w0(t), Idle: 20 * time.Millisecond, FirstRepairAfter: time.Minute,
		Observe: func(_ string, _ time.Duration, a, _ int) { applied <- a }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	defer func() { cancel(); <-done }()
	e.push("one.example", 1)
	go func() { done <- w.Run(ctx) }()
	waitBatch(t, applied)
	// pushed pushes a zone and waits for the worker's batch of it.
	pushed := func(name string) {
		t.Helper()
		e.push(name, 1)
		w.Wake()
		waitBatch(t, applied)
	}
	// The queue drained after that batch (a repair would come now), then
	// this zone makes another batch.
	pushed("two.example")
	if n := b.repairs.Load(); n != 0 {
		t.Fatalf("%d repairs before FirstRepairAfter passed", n)
	}
	e.clk.Advance(time.Minute)
	waitRepairs(t, &b.repairs, 1)
	pushed("three.example")
	pushed("four.example")
	if n := b.repairs.Load(); n != 1 {
		t.Fatalf("%d repairs within RepairEvery, want 1", n)
	}

	// Without FirstRepairAfter: at the first drained queue, on the same clock.
	b0 := &repairing{Backend: memory.New()}
	wz := NewWorker("mem0", b0, e.st, Options{Now: e.clk.Now, Logger: w0(t), Idle: 20 * time.Millisecond})
	ctx0, cancel0 := context.WithCancel(context.Background())
	done0 := make(chan error, 1)
	defer func() { cancel0(); <-done0 }()
	go func() { done0 <- wz.Run(ctx0) }()
	waitRepairs(t, &b0.repairs, 1)
}

func waitBatch(t *testing.T, applied <-chan int) {
	t.Helper()
	select {
	case <-applied:
	case <-time.After(10 * time.Second):
		t.Fatal("no batch within 10s")
	}
}

func waitRepairs(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d repairs after 10s, want %d", n.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDelayFirstRepairReachesEveryWorker: the dispatcher passes the delay
// to each of its workers (dadns serve sets it once the builtins loaded).
func TestDelayFirstRepairReachesEveryWorker(t *testing.T) {
	e := newEnv(t)
	d := New(e.st, map[string]backend.Backend{"a": memory.New(), "b": memory.New()}, Options{Now: e.clk.Now, Logger: w0(t)})
	d.DelayFirstRepair(time.Minute)
	for _, w := range d.Workers() {
		if w.opt.FirstRepairAfter != time.Minute {
			t.Errorf("worker %s: FirstRepairAfter %v, want 1m", w.Name(), w.opt.FirstRepairAfter)
		}
	}
}
