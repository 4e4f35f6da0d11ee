package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/store"
)

// probeTimeout bounds one probe of a backend.
const probeTimeout = 10 * time.Second

// health is what a worker knows about whether its backend answers. A
// backend is down when a batch failed as a whole and a probe failed
// right after; only a backend.Prober can be down (without a probe, the
// zones' retry schedule alone paces the attempts).
type health struct {
	down      bool
	since     time.Time     // when it went down
	err       error         // the last probe's error
	nextProbe time.Time     // when to probe again
	wait      time.Duration // the current wait between probes
	probes    int           // failed probes since it went down
	summary   time.Time     // when "still down" was last logged
}

// probe runs the backend's probe with a timeout.
func (w *Worker) probe(ctx context.Context, p backend.Prober) error {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return p.Probe(pctx)
}

// checkDown runs after a batch that failed as a whole with batchErr: it
// probes the backend and, when the probe fails too, marks it down. A
// backend that answers its probe is up: the batch's zones simply wait for
// their retries.
func (w *Worker) checkDown(ctx context.Context, batchErr error) {
	p, ok := w.b.(backend.Prober)
	if !ok || ctx.Err() != nil {
		return
	}
	err := w.probe(ctx, p)
	if err == nil || ctx.Err() != nil {
		return
	}
	now := w.opt.Now()
	w.health = health{down: true, since: now, err: err, wait: w.opt.ProbeMin,
		nextProbe: now.Add(w.opt.ProbeMin), probes: 1, summary: now}
	w.status.setDown(now, err)
	w.opt.Metrics.setUp(w.name, false)
	w.log.Warn("backend down: applying nothing until it answers a probe",
		"err", err, "batch_err", batchErr, "probe_every", fmt.Sprintf("%s doubling to %s", w.opt.ProbeMin, w.opt.ProbeMax))
	w.markWaiting(ctx)
}

// probeDown probes a backend that is down once its probe is due. It
// returns up when the backend answers (logged once); otherwise the time
// of the next probe, which waits twice as long as the last, up to
// ProbeMax. A backend that stays down is logged once per DownSummary.
func (w *Worker) probeDown(ctx context.Context) (next time.Time, up bool) {
	h := &w.health
	if w.opt.Now().Before(h.nextProbe) {
		return h.nextProbe, false
	}
	p := w.b.(backend.Prober) // only a Prober is ever down
	err := w.probe(ctx, p)
	now := w.opt.Now()
	if ctx.Err() != nil {
		return now, false
	}
	if err == nil {
		w.log.Info("backend answers again: resuming on the zones' retry schedule",
			"down_for", now.Sub(h.since).Round(time.Second).String(), "probes", h.probes+1)
		w.health = health{}
		w.status.setUp()
		w.opt.Metrics.setUp(w.name, true)
		return time.Time{}, true
	}
	h.err = err
	h.probes++
	h.wait = min(2*h.wait, w.opt.ProbeMax)
	h.nextProbe = now.Add(h.wait)
	w.status.setDown(h.since, err)
	marked := w.markWaiting(ctx)
	if now.Sub(h.summary) >= w.opt.DownSummary {
		h.summary = now
		w.log.Warn("backend still down", "down_for", now.Sub(h.since).Round(time.Second).String(),
			"probes", h.probes, "zones_marked_failing", marked, "err", err)
	}
	return h.nextProbe, false
}

// markWaiting records the zones that became due while the backend is
// down and were never tried for their version as failing with the
// backend's error, so that status shows them failing rather than pending.
// Nothing is applied and zones that failed before are left as they are:
// their retry schedule runs on, and every zone whose retry falls in the
// outage is due the moment the backend answers again. It looks at up to
// markLimit due zones per probe (the store's Due): beyond that, some may
// show as pending rather than failing until the backend answers; the
// worker's status shows the outage either way.
func (w *Worker) markWaiting(ctx context.Context) int {
	const markLimit = 10000
	if err := w.rec.flush(); err != nil {
		w.log.Warn("recording applied zones", "err", err)
	}
	due, _, err := w.st.Due(ctx, w.name, max(w.batchSize(), markLimit))
	if err != nil {
		return 0
	}
	now := w.opt.Now()
	msg := fmt.Sprintf("not applied: backend down since %s: %v", w.health.since.UTC().Format(time.RFC3339), w.health.err)
	var fails []store.Failure
	for _, wk := range due {
		if wk.Attempts == 0 {
			fails = append(fails, store.Failure{Name: wk.Zone.Name, Version: wk.Zone.Version, Err: msg, Next: now})
		}
	}
	if err := w.st.Failed(context.WithoutCancel(ctx), w.name, fails); err != nil {
		w.log.Warn("recording zones waiting for a backend that is down", "err", err)
		return 0
	}
	return len(fails)
}
