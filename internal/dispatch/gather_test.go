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
// several pushes per apply, and serves and records every one. The stream
// is paced on a fixed schedule and its real gaps are measured: on a
// machine so loaded that the pushes (each a store write with its fsync)
// came gatherMax apart or more, the premise did not hold and the stream
// is sent again (at most three times).
func TestSlowBackendGathersAStream(t *testing.T) {
	for attempt := 1; ; attempt++ {
		batches, gap, held := gatherStream(t, attempt)
		t.Logf("attempt %d: 30 pushes, median gap %v, applies of %v zones", attempt, gap, batches)
		if !held {
			if attempt == 3 {
				t.Fatalf("the machine never delivered the stream: median gap between pushes %v (want < %v) in 3 attempts", gap, gatherMax)
			}
			continue
		}
		if len(batches) >= 30 {
			t.Fatalf("%d applies for 30 pushes %v apart: none gathered", len(batches), gap)
		}
		return
	}
}

// gatherStream runs one stream of 30 pushes for TestSlowBackendGathersAStream
// and returns the sizes of the applies, the median gap between hints and
// whether it was below gatherMax.
func gatherStream(t *testing.T, attempt int) ([]int, time.Duration, bool) {
	e := newEnv(t)
	b := &slowApply{Backend: memory.New(), took: 2 * time.Millisecond}
	w := NewWorker("slow", b, e.st, Options{BatchSize: 50, Idle: time.Hour, Logger: w0(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var zs []*zone.Zone
	var gaps []time.Duration
	start := time.Now()
	last := start
	for i := range 30 {
		name := fmt.Sprintf("g%d-%d.example", attempt, i)
		z := e.push(name, 1)
		zs = append(zs, z)
		time.Sleep(time.Until(start.Add(time.Duration(i) * 4 * time.Millisecond)))
		now := time.Now()
		if i > 0 {
			gaps = append(gaps, now.Sub(last))
		}
		last = now
		w.Hint(e.row(name), z)
	}
	for _, z := range zs {
		waitFor(t, "every pushed zone served", 10*time.Second, func() bool { return serves(b.Backend, z) })
	}
	waitFor(t, "every push recorded applied", 10*time.Second, func() bool {
		applies, _, err := e.st.Pending(context.Background(), "slow")
		return err == nil && applies == 0
	})
	b.mu.Lock()
	batches := slices.Clone(b.batches)
	b.mu.Unlock()
	slices.Sort(gaps)
	median := gaps[len(gaps)/2]
	return batches, median, median < gatherMax
}
