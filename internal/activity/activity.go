// Package activity counts, per minute over the last hour, what dadns did:
// zone changes stored and backend batches applied. The counts live in
// memory only (they restart with the process) and feed the UI's charts; no
// external service is needed.
package activity

import (
	"sync"
	"time"
)

// Minutes is how many per-minute buckets are kept: one hour.
const Minutes = 60

// Bucket is one minute of activity.
type Bucket struct {
	Start   time.Time     // the minute's first instant
	Pushes  int           // zone saves and deletes stored
	Batches int           // backend batches applied
	Zones   int           // zone changes applied by those batches
	Failed  int           // zone changes that failed
	Latency time.Duration // total time of those batches
	Slowest time.Duration // the slowest batch
}

// MeanLatency is the mean batch time of the minute (0 without batches).
func (b Bucket) MeanLatency() time.Duration {
	if b.Batches == 0 {
		return 0
	}
	return b.Latency / time.Duration(b.Batches)
}

// Recorder is a ring of per-minute buckets. The zero value is not usable;
// call New. It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	now  func() time.Time
	ring [Minutes]Bucket
}

// New returns a Recorder; now is the clock (nil: time.Now).
func New(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now}
}

// bucket returns the bucket of the current minute, clearing it when it
// last held an older minute. Callers hold mu.
func (r *Recorder) bucket() *Bucket {
	minute := r.now().Truncate(time.Minute)
	b := &r.ring[minute.Unix()/60%Minutes]
	if !b.Start.Equal(minute) {
		*b = Bucket{Start: minute}
	}
	return b
}

// Push counts one stored zone change. A nil Recorder ignores it.
func (r *Recorder) Push() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.bucket().Pushes++
	r.mu.Unlock()
}

// Batch counts one backend batch: how long it took, the zone changes it
// applied and those that failed. A nil Recorder ignores it.
func (r *Recorder) Batch(took time.Duration, applied, failed int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	b := r.bucket()
	b.Batches++
	b.Zones += applied
	b.Failed += failed
	b.Latency += took
	b.Slowest = max(b.Slowest, took)
	r.mu.Unlock()
}

// Hour returns the last Minutes buckets, oldest first, the current minute
// last; minutes without activity are zero buckets with their Start set.
func (r *Recorder) Hour() []Bucket {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.now().Truncate(time.Minute)
	out := make([]Bucket, Minutes)
	for i := range out {
		minute := cur.Add(time.Duration(i-Minutes+1) * time.Minute)
		b := r.ring[minute.Unix()/60%Minutes]
		if !b.Start.Equal(minute) {
			b = Bucket{Start: minute}
		}
		out[i] = b
	}
	return out
}
