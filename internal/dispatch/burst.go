package dispatch

import (
	"log/slog"
	"time"
)

// burst accumulates batch telemetry until the queue drains, then logs one
// line: zones applied, failures, seconds and zones/s.
type burst struct {
	start           time.Time
	last            time.Time
	applied, failed int
}

func (b *burst) add(start, end time.Time, applied, failed int) {
	if b.start.IsZero() {
		b.start = start
	}
	b.last = end
	b.applied += applied
	b.failed += failed
}

func (b *burst) finish(log *slog.Logger, now time.Time) {
	if b.start.IsZero() {
		return
	}
	secs := b.last.Sub(b.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(b.applied) / secs
	}
	log.Info("batch drained", "zones", b.applied, "failures", b.failed,
		"seconds", round3(secs), "zones_per_sec", round3(rate))
	*b = burst{}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
