package dispatch

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/memory"
	"github.com/dadns/dadns/internal/zone"
)

func TestGatherFor(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name                        string
		lastApply, gap, since, want time.Duration
	}{
		{"builtin: fast apply never waits", 100 * time.Microsecond, 2 * ms, 0, 0},
		{"slow backend, stream of pushes", 5 * ms, 3 * ms, ms, 6 * ms},
		{"wait capped", 5 * ms, 8 * ms, ms, gatherMax},
		{"pushes too far apart", 5 * ms, 12 * ms, ms, 0},
		{"no second hint yet", 5 * ms, 0, ms, 0},
		{"the stream stopped", 5 * ms, 3 * ms, 15 * ms, 0},
	} {
		if got := gatherFor(c.lastApply, c.gap, c.since); got != c.want {
			t.Errorf("%s: gatherFor(%v, %v, %v) = %v, want %v", c.name, c.lastApply, c.gap, c.since, got, c.want)
		}
	}
}

func TestHintClock(t *testing.T) {
	var c hintClock
	t0 := time.Unix(1000, 0)
	c.arrived(t0)
	if c.gap.Load() != 0 {
		t.Fatalf("gap after one hint: %v", time.Duration(c.gap.Load()))
	}
	c.arrived(t0.Add(3 * time.Millisecond))
	if got := time.Duration(c.gap.Load()); got != 3*time.Millisecond {
		t.Fatalf("gap %v, want 3ms", got)
	}
}

// slowApply is a backend whose every Apply takes a while (a daemon or a
// database round trip), recording each batch's size.
type slowApply struct {
	*memory.Backend
	took    time.Duration
	mu      sync.Mutex
	batches []int
}

func (b *slowApply) Apply(ctx context.Context, zs []*zone.Zone) error {
	time.Sleep(b.took)
	b.mu.Lock()
	b.batches = append(b.batches, len(zs))
	b.mu.Unlock()
	return b.Backend.Apply(ctx, zs)
}

// TestSlowBackendGathersAStream hands a worker whose apply takes 2 ms a
// push every 4 ms (each apply ends before the next push): it gathers
// several pushes per apply, and serves and records every one.
func TestSlowBackendGathersAStream(t *testing.T) {
	e := newEnv(t)
	b := &slowApply{Backend: memory.New(), took: 2 * time.Millisecond}
	w := NewWorker("slow", b, e.st, Options{BatchSize: 50, Idle: time.Hour, Logger: w0(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var zs []*zone.Zone
	for i := range 30 {
		name := fmt.Sprintf("g%d.example", i)
		z := e.push(name, 1)
		zs = append(zs, z)
		w.Hint(e.row(name), z)
		time.Sleep(4 * time.Millisecond)
	}
	for _, z := range zs {
		waitFor(t, "every pushed zone served", 10*time.Second, func() bool { return serves(b.Backend, z) })
	}
	b.mu.Lock()
	batches := slices.Clone(b.batches)
	b.mu.Unlock()
	t.Logf("30 pushes 4 ms apart, applies of %v zones", batches)
	if len(batches) >= len(zs) {
		t.Fatalf("%d applies for %d pushes: none gathered", len(batches), len(zs))
	}
	waitFor(t, "every push recorded applied", 10*time.Second, func() bool {
		applies, _, err := e.st.Pending(context.Background(), "slow")
		return err == nil && applies == 0
	})
}
