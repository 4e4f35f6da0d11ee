// Package dispatch runs one worker loop per backend instance: it takes the
// zones whose applied version is behind the desired one, applies the latest
// desired state, verifies it and records the outcome.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// Worker drives one backend instance.
type Worker struct {
	name  string
	b     backend.Backend
	st    store.Store
	opt   Options
	log   *slog.Logger
	wake  chan struct{}
	hints hintQueue
	rec   recorder
	// wantDue asks the next pass to read the store: a plain wake
	// (Notify), or a hint that could not be queued.
	wantDue atomic.Bool
	next    time.Time // earliest retry not yet due, as last known
	read    time.Time // when the worker last read its due zones
	burst   burst
	status  statusBox
	health  health
	repair  time.Time // last Repair (zero: not yet)
	start   time.Time // when Run started
	// clock: when hints arrived; lastApply: how long the last batch's
	// apply took (gather.go); slow: lastApply was at least gatherMinApply,
	// for Committed's order of wake-ups.
	clock     hintClock
	lastApply time.Duration
	slow      atomic.Bool
	batcher   backend.Batcher // b, when it chooses its batch size
}

// Options tune a Worker. Zero values take defaults.
type Options struct {
	BatchSize int             // zones per apply, default 500
	Schedule  []time.Duration // retry schedule, default DefaultSchedule
	Idle      time.Duration   // longest sleep when nothing is due, default 30s
	Now       func() time.Time
	Logger    *slog.Logger
	Metrics   *Metrics    // nil: none
	Parsed    *zone.Cache // zones parsed at push time (nil: parse each)
	// ProbeMin and ProbeMax bound the wait between probes of a backend
	// that is down: the first after ProbeMin, doubling up to ProbeMax
	// (defaults 1s and 30s).
	ProbeMin, ProbeMax time.Duration
	// DownSummary is how often a backend that stays down is logged
	// (default a minute).
	DownSummary time.Duration
	// RepairEvery is how often a backend.Repairer repairs drift while it
	// is up, besides once after the worker starts (default an hour).
	RepairEvery time.Duration
	// FirstRepairAfter is how long after Run starts that first repair
	// waits at least (default 0: as soon as the queue is first drained).
	// A repair reads every zone the backend holds; right after a start
	// that work would compete with the first answers of the DNS servers.
	FirstRepairAfter time.Duration
	// Observe hears of every batch: how long it took, the zone changes
	// applied and failed (nil: nobody); it feeds the UI's activity charts.
	Observe func(backend string, took time.Duration, applied, failed int)
}

func (o *Options) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if len(o.Schedule) == 0 {
		o.Schedule = DefaultSchedule
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ProbeMin <= 0 {
		o.ProbeMin = time.Second
	}
	if o.ProbeMax < o.ProbeMin {
		o.ProbeMax = max(30*time.Second, o.ProbeMin)
	}
	if o.DownSummary <= 0 {
		o.DownSummary = time.Minute
	}
	if o.RepairEvery <= 0 {
		o.RepairEvery = time.Hour
	}
}

// NewWorker returns a worker for backend instance name. A backend that is
// a backend.Batcher sets its own batch size (see batchSize).
func NewWorker(name string, b backend.Backend, st store.Store, opt Options) *Worker {
	opt.defaults()
	w := &Worker{
		name: name, b: b, st: st, opt: opt,
		log:  opt.Logger.With("backend", name),
		wake: make(chan struct{}, 1),
	}
	w.batcher, _ = b.(backend.Batcher)
	return w
}

// batchSize is how many due zones the next pass reads: the backend's own
// figure when it is a Batcher (asked before every read, since it may grow
// with the zones the backend holds), else Options.BatchSize.
func (w *Worker) batchSize() int {
	if w.batcher != nil {
		if n := w.batcher.BatchSize(); n > 0 {
			return n
		}
	}
	return w.opt.BatchSize
}

// Name returns the backend instance name.
func (w *Worker) Name() string { return w.name }

// Wake makes the worker look for due zones in the store now.
func (w *Worker) Wake() {
	w.wantDue.Store(true)
	w.signal()
}

// signal wakes the worker's loop.
func (w *Worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run loops until ctx ends. A batch in flight when ctx ends either
// finishes recording or is left pending; it is never half recorded. A panic
// in a backend stops the loop, marks the worker dead (status shows it) and
// is logged; the process goes on serving the other backends.
func (w *Worker) Run(ctx context.Context) (err error) {
	w.start = w.opt.Now()
	// Runs last: marks still being written are in before Run returns.
	defer func() { _ = w.rec.flush() }()
	w.status.start()
	w.opt.Metrics.setUp(w.name, !w.health.down)
	defer func() {
		if v := recover(); v != nil {
			w.log.Error("backend worker died", "panic", v)
			w.status.die(fmt.Sprint("panic: ", v))
			err = fmt.Errorf("dispatch: worker %s died: %v", w.name, v)
			return
		}
		w.status.stop()
	}()
	readDue := true // the first pass reads the store
	for {
		p := w.runOnce(ctx, readDue)
		n, next, err := p.n, p.next, p.err
		if ctx.Err() != nil {
			return nil
		}
		w.status.pass(w.opt.Now(), err)
		if err != nil {
			w.log.Error("dispatch pass failed", "err", err)
		}
		if n > 0 && err == nil && (p.more || w.woken()) {
			readDue = p.more || w.readDueNow()
			if !readDue && !w.gather(ctx) {
				return nil
			}
			continue
		}
		w.burst.finish(w.log, w.opt.Now())
		if due := w.maybeRepair(ctx); !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
		timer, err := w.sleep(ctx, next)
		if err != nil {
			return nil
		}
		// Woken by hints alone, the worker applies them without reading
		// the store; a timer (retry due, idle poll), a plain wake or a
		// failed pass reads it.
		readDue = timer || p.err != nil || w.readDueNow()
		if !readDue && !w.gather(ctx) {
			return nil
		}
	}
}

// readDueNow reports whether the next pass must read the store although
// hints woke it: a plain wake or a lost hint asked for it, a retry fell
// due, or the idle poll's time passed. Without the last two, a steady
// stream of hints would keep the worker from its retries.
func (w *Worker) readDueNow() bool {
	now := w.opt.Now()
	return w.wantDue.Load() || !w.next.IsZero() && !now.Before(w.next) || now.Sub(w.read) >= w.opt.Idle
}

// maybeRepair runs the backend's drift repair once the worker first drains its queue
// (and FirstRepairAfter has passed since Run started), then every
// RepairEvery, only while the backend is up and between batches. It
// returns when the first repair is due while it waits for
// FirstRepairAfter (else zero), so that the worker wakes for it.
func (w *Worker) maybeRepair(ctx context.Context) time.Time {
	r, ok := w.b.(backend.Repairer)
	now := w.opt.Now()
	if !ok || w.health.down || !w.repair.IsZero() && now.Sub(w.repair) < w.opt.RepairEvery {
		return time.Time{}
	}
	if due := w.start.Add(w.opt.FirstRepairAfter); w.repair.IsZero() && now.Before(due) {
		return due
	}
	w.repair = now
	if err := r.Repair(ctx); err != nil && ctx.Err() == nil {
		w.log.Warn("backend drift repair failed", "err", err)
	}
	return time.Time{}
}

// sleep waits for a wake-up, the next due retry or the idle poll; it
// reports whether its timer ended the wait.
func (w *Worker) sleep(ctx context.Context, next time.Time) (bool, error) {
	d := w.opt.Idle
	if !next.IsZero() {
		if until := next.Sub(w.opt.Now()); until < d {
			d = max(until, 10*time.Millisecond)
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-w.wake:
		return false, nil
	case <-t.C:
		return true, nil
	}
}

// RunOnce applies one batch of due zones and returns how many it handled
// and when the earliest not-yet-due retry falls. While the backend is down
// it applies nothing: it probes the backend when the probe is due and
// returns the time of the next probe.
func (w *Worker) RunOnce(ctx context.Context) (int, time.Time, error) {
	p := w.runOnce(ctx, true)
	if err := w.rec.flush(); err != nil && p.err == nil {
		p.err = err
	}
	return p.n, p.next, p.err
}

// pass is what one runOnce did.
type pass struct {
	n    int       // zones handled
	next time.Time // earliest retry not yet due (zero: none)
	err  error
	// more is false when the pass leaves nothing due as far as the store
	// knew when it was read: the batch was not full and every zone of it
	// was applied. Work that came after that read woke the worker (a push
	// wakes it once committed), so Run need not ask the store again
	// before it sleeps; at one push at a time that second, empty read
	// cost as much as the first.
	more bool
}

// runOnce applies one batch: the due zones read from the store when
// readDue, and the hints queued (see hint). A pass that does not read the
// store applies its hints only.
func (w *Worker) runOnce(ctx context.Context, readDue bool) pass {
	if w.health.down {
		// Hints are dropped while down: the read after recovery finds
		// their zones.
		w.hints.take()
		if next, up := w.probeDown(ctx); !up {
			return pass{next: next}
		}
		readDue = true
	}
	var due []store.Work
	var limit int // the batch size of the read (readDue)
	next := w.next
	if readDue {
		// A wake from before the read is covered by it.
		w.wantDue.Store(false)
		if err := w.rec.flush(); err != nil {
			return pass{next: w.next, err: err}
		}
		var err error
		w.read = w.opt.Now()
		limit = w.batchSize()
		due, next, err = w.st.Due(ctx, w.name, limit)
		if err != nil {
			return pass{next: w.next, err: err}
		}
		w.next = next
	}
	// Taken only now, after the read: see hint for why.
	hs, lost := w.hints.take()
	if lost {
		w.wantDue.Store(true)
		w.signal()
	}
	work, parsed := hinted(due, hs)
	// due is not used past this point, so that once apply drops the
	// texts of work nothing else keeps them alive.
	read := len(due)
	if len(work) == 0 {
		return pass{next: next}
	}
	start := w.opt.Now()
	t0 := time.Now()
	res := w.apply(ctx, work, parsed)
	w.lastApply = time.Since(t0)
	w.slow.Store(w.lastApply >= gatherMinApply)
	if ctx.Err() != nil && !res.complete {
		return pass{next: next, err: ctx.Err()}
	}
	// Record even if ctx ended meanwhile: what was applied is true. The
	// applied marks are written in the background (recorder).
	rec := context.WithoutCancel(ctx)
	w.rec.add(res.applied, w.record(ctx))
	if err := w.st.Failed(rec, w.name, res.failed); err != nil {
		return pass{next: next, err: fmt.Errorf("dispatch: record failures: %w", err)}
	}
	if len(res.applied) == 0 && res.wholesale != nil {
		w.checkDown(ctx, res.wholesale)
	}
	end := w.opt.Now()
	for _, f := range res.failed {
		if !f.Permanent && (next.IsZero() || f.Next.Before(next)) {
			next = f.Next
		}
	}
	w.next = next
	w.burst.add(start, end, len(res.applied), len(res.failed))
	w.opt.Metrics.observe(w.name, end.Sub(start), res, retried(work))
	if w.opt.Observe != nil {
		w.opt.Observe(w.name, end.Sub(start), len(res.applied), len(res.failed))
	}
	more := readDue && read >= limit || len(res.failed) > 0 || !res.complete || w.health.down
	return pass{n: len(work), next: next, more: more}
}

// woken takes a pending wake-up, if any.
func (w *Worker) woken() bool {
	select {
	case <-w.wake:
		return true
	default:
		return false
	}
}

type result struct {
	applied    []store.Applied
	failed     []store.Failure
	mismatches int   // verification found other data than applied
	complete   bool  // every zone of the batch has an outcome
	wholesale  error // a call failed for the whole batch, not per zone
	logged     int   // zone failures logged one by one
	unlogged   int   // further zone failures, logged as a count
}

// zoneLogs is how many zone failures of one batch are logged one line
// each; the rest are counted in one line.
const zoneLogs = 10

// retried counts the zones of a batch that had failed before.
func retried(due []store.Work) int {
	n := 0
	for _, wk := range due {
		if wk.Attempts > 0 {
			n++
		}
	}
	return n
}

// apply runs one batch: parse, audit, apply, verify, delete. parsed holds
// zones already parsed, by hash (the hints'). Once a zone is parsed its
// stored text is dropped from due (the parsed zone has the same text):
// a batch of thousands of zones holds one copy of each while the
// backend applies it.
func (w *Worker) apply(ctx context.Context, due []store.Work, parsed map[string]*zone.Zone) result {
	var res result
	var zones []*zone.Zone
	var dels []zone.Name
	works := map[zone.Name]store.Work{}
	for i := range due {
		wk := due[i]
		n := zone.Name(wk.Zone.Name)
		if wk.Zone.Deleted {
			works[n] = wk
			dels = append(dels, n)
			continue
		}
		z, err := w.parse(n, wk.Zone, parsed)
		due[i].Zone.Canonical, wk.Zone.Canonical = "", ""
		works[n] = wk
		if err == nil {
			err = w.audit(z)
		}
		if err != nil {
			res.fail(w, wk, backend.Permanent(err))
			continue
		}
		zones = append(zones, z)
	}
	if len(zones) > 0 {
		w.applyZones(ctx, zones, works, &res)
	}
	if len(dels) > 0 && ctx.Err() == nil {
		w.deleteZones(ctx, dels, works, &res)
	}
	res.complete = len(res.applied)+len(res.failed) == len(due)
	if res.unlogged > 0 {
		w.log.Warn("apply failed: more zones of this batch", "zones", res.unlogged)
	}
	return res
}

// parse returns the zone of a stored desired state: a hint's, or from
// the push-time cache when it holds the same content, or parsed from the
// stored text.
func (w *Worker) parse(n zone.Name, sz store.Zone, parsed map[string]*zone.Zone) (*zone.Zone, error) {
	if z := parsed[sz.Hash]; z != nil && z.Name == n {
		return z, nil
	}
	if z := w.opt.Parsed.Get(n, sz.Hash); z != nil {
		return z, nil
	}
	z, err := zone.Parse(n, []byte(sz.Canonical), zone.Limits{MaxRecords: 1 << 30})
	if err != nil {
		return nil, err
	}
	if z.Hash() != sz.Hash {
		return nil, fmt.Errorf("dispatch: stored zone %s does not hash to its recorded hash", n)
	}
	// Shared with the other workers: those behind this one (a slower
	// backend) then take it from the cache instead of parsing it again.
	w.opt.Parsed.Put(z)
	return z, nil
}

func (w *Worker) audit(z *zone.Zone) error {
	if a, ok := w.b.(backend.Auditor); ok {
		return a.AuditZone(z)
	}
	return nil
}

func (w *Worker) applyZones(ctx context.Context, zones []*zone.Zone, works map[zone.Name]store.Work, res *result) {
	err := w.b.Apply(ctx, zones)
	if ctx.Err() != nil {
		return // left pending: retried after restart
	}
	named, rest := backend.PerZone(err)
	if rest != nil {
		res.wholesale = rest
	}
	failed := 0
	for _, z := range zones {
		wk := works[z.Name]
		if e := named[z.Name]; e != nil {
			res.fail(w, wk, e)
			continue
		}
		if rest != nil {
			res.failQuiet(w, wk, rest)
			failed++
			continue
		}
		if err := w.verify(ctx, z); err != nil {
			if isMismatch(err) {
				res.mismatches++
			}
			res.fail(w, wk, err)
			continue
		}
		res.applied = append(res.applied, store.Applied{Name: wk.Zone.Name, Version: wk.Zone.Version, Hash: z.Hash()})
	}
	w.logBatchFailure("apply", failed, rest)
}

// logBatchFailure logs, in one line, a failure shared by zones of a batch.
func (w *Worker) logBatchFailure(op string, zones int, err error) {
	if zones == 0 {
		return
	}
	w.log.Warn(op+" failed for the whole batch", "zones", zones, "err", err)
}

// verify checks that the backend serves what was applied.
func (w *Worker) verify(ctx context.Context, z *zone.Zone) error {
	if v, ok := w.b.(backend.Verifier); ok {
		return v.Verify(ctx, z.Name, z.Hash())
	}
	got, err := w.b.Zone(ctx, z.Name)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if got.Hash() != z.Hash() {
		return fmt.Errorf("verify: %w (serves %.12s, applied %.12s)", backend.ErrMismatch, got.Hash(), z.Hash())
	}
	return nil
}

func (w *Worker) deleteZones(ctx context.Context, names []zone.Name, works map[zone.Name]store.Work, res *result) {
	err := w.b.Delete(ctx, names)
	if ctx.Err() != nil {
		return
	}
	named, rest := backend.PerZone(err)
	if rest != nil {
		res.wholesale = rest
	}
	failed := 0
	for _, n := range names {
		wk := works[n]
		if e := named[n]; e != nil {
			res.fail(w, wk, e)
			continue
		}
		if rest != nil {
			res.failQuiet(w, wk, rest)
			failed++
			continue
		}
		res.applied = append(res.applied, store.Applied{Name: wk.Zone.Name, Version: wk.Zone.Version})
	}
	w.logBatchFailure("delete", failed, rest)
}

// fail records a zone's own failure and logs it (the first zoneLogs of a
// batch one line each, the rest as a count).
func (r *result) fail(w *Worker, wk store.Work, err error) {
	f := r.failQuiet(w, wk, err)
	if r.logged >= zoneLogs {
		r.unlogged++
		return
	}
	r.logged++
	w.log.Warn("apply failed", "zone", wk.Zone.Name, "version", wk.Zone.Version,
		"attempt", wk.Attempts+1, "permanent", f.Permanent, "retry_at", f.Next.Format(time.RFC3339), "err", err)
}

// failQuiet records a failure without logging it.
func (r *result) failQuiet(w *Worker, wk store.Work, err error) store.Failure {
	perm := errors.Is(err, backend.ErrPermanent)
	next := w.opt.Now().Add(backoff(w.opt.Schedule, wk.Attempts))
	f := store.Failure{Name: wk.Zone.Name, Version: wk.Zone.Version, Err: err.Error(), Next: next, Permanent: perm}
	r.failed = append(r.failed, f)
	return f
}
