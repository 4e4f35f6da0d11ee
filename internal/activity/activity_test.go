package activity

import (
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestHourBucketsAndWrap(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 30, 0, time.UTC)}
	r := New(c.now)
	r.Push()
	r.Push()
	r.Batch(20*time.Millisecond, 5, 1)
	r.Batch(40*time.Millisecond, 3, 0)
	c.add(2 * time.Minute)
	r.Push()

	h := r.Hour()
	if len(h) != Minutes {
		t.Fatalf("got %d buckets, want %d", len(h), Minutes)
	}
	last, first := h[Minutes-1], h[Minutes-3]
	if last.Pushes != 1 || !last.Start.Equal(time.Date(2026, 12, 6, 10, 2, 0, 0, time.UTC)) {
		t.Errorf("current minute = %+v", last)
	}
	if h[Minutes-2].Pushes != 0 || h[Minutes-2].Batches != 0 {
		t.Errorf("idle minute not empty: %+v", h[Minutes-2])
	}
	if first.Pushes != 2 || first.Batches != 2 || first.Zones != 8 || first.Failed != 1 {
		t.Errorf("first minute = %+v", first)
	}
	if first.MeanLatency() != 30*time.Millisecond || first.Slowest != 40*time.Millisecond {
		t.Errorf("latency mean %v slowest %v", first.MeanLatency(), first.Slowest)
	}
	// An hour later the old minute has left the window, even though its
	// slot is reused.
	c.add(time.Hour)
	r.Push()
	for _, b := range r.Hour()[:Minutes-1] {
		if b.Pushes != 0 {
			t.Fatalf("stale bucket kept: %+v", b)
		}
	}
	if got := r.Hour()[Minutes-1].Pushes; got != 1 {
		t.Errorf("new minute pushes = %d, want 1", got)
	}
}

func TestNilRecorderIgnores(t *testing.T) {
	var r *Recorder
	r.Push()
	r.Batch(time.Second, 1, 0)
}
