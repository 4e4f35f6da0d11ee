package dispatch

import (
	"context"
	"sync/atomic"
	"time"
)

// Gathering. A DirectAdmin server pushing one zone at a time sends the
// next push a few milliseconds after the previous acknowledgement. A
// backend whose apply costs milliseconds (a knotc or rndc process, a
// database transaction and its fsync) then applies every push alone:
// with seven backends on a 2-core machine those per-zone costs (in
// dadns at C=1, the spawned knotc, rndc and named-checkconf processes
// alone took a third of the CPU of dadns and its children) saturated the
// machine, and every push waited for the CPU. While hints stream in
// faster than gatherMax apart, a worker whose last apply took at least
// gatherMinApply waits twice the last gap between hints (at most
// gatherMax) before it takes its hints, so that a few pushes share one
// apply. The builtin (an apply of ~0.1 ms) never waits; nor does a
// backend after an isolated push (one push, then nothing for gatherMax:
// the bench's push → served probes, which wait for the backends between
// pushes, mostly more than gatherMax), so its served latency is
// unchanged there; under a stream it grows by at most gatherMax.
const (
	gatherMax      = 10 * time.Millisecond
	gatherMinApply = time.Millisecond
)

// hintClock keeps when hints arrived, for gatherFor.
type hintClock struct {
	last atomic.Int64 // Unix ns of the last hint
	gap  atomic.Int64 // ns between the last two hints (0: none yet)
}

// arrived notes a hint at now.
func (c *hintClock) arrived(now time.Time) {
	t := now.UnixNano()
	if prev := c.last.Swap(t); prev > 0 && t > prev {
		c.gap.Store(t - prev)
	}
}

// gatherFor is how long a worker woken by hints waits before taking
// them: twice the gap between the last two hints, at most gatherMax,
// when that gap is below gatherMax, the last hint came less than gatherMax
// ago and the worker's last apply took at least gatherMinApply; else 0.
func gatherFor(lastApply, gap, sinceLast time.Duration) time.Duration {
	if lastApply < gatherMinApply || gap <= 0 || gap >= gatherMax || sinceLast >= gatherMax {
		return 0
	}
	return min(2*gap, gatherMax)
}

// gather waits as gatherFor says before a pass that applies hints only;
// false when ctx ended. It goes by the wall clock (time.Now), not
// Options.Now: this is pacing, not the retry schedule.
func (w *Worker) gather(ctx context.Context) bool {
	since := time.Duration(time.Now().UnixNano() - w.clock.last.Load())
	d := gatherFor(w.lastApply, time.Duration(w.clock.gap.Load()), since)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
