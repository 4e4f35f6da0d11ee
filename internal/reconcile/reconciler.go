package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/directadmin"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// Options configure a Reconciler.
type Options struct {
	Store store.Store
	Push  *push.Service
	// Servers are the DirectAdmin servers to poll (reconciliation.directadmin_servers).
	Servers   []config.DirectAdminServer
	VerifySSL bool
	IPP       int
	// MaxDeleteFraction bounds the deletes of one pass (default 0.1).
	MaxDeleteFraction float64
	// Aliases are more owner aliases (app.owner_aliases), merged with the
	// servers' own.
	Aliases map[string][]string
	// DryRun makes the timed passes plan without applying.
	DryRun bool
	// Interval and InitialDelay time the passes of Run.
	Interval, InitialDelay time.Duration
	// Backends are the enabled backend instances, for the report's counts.
	Backends   []string
	ZoneLimits zone.Limits
	// Timeout bounds each DA call (default 30 s); tests shorten it.
	Timeout time.Duration
	// DNSTimeout bounds one try of one SOA question to a server's DNS
	// (default 2 s); DNSParallel bounds the questions in flight per server
	// (default 64).
	DNSTimeout  time.Duration
	DNSParallel int
	Logger      *slog.Logger
	Now         func() time.Time
	// Gate, when set, is asked before each timed pass; the pass is skipped
	// unless it answers true (nodes sharing a store: one holds the lease).
	Gate func(context.Context) (bool, error)
}

// Reconciler runs reconciliation passes. It is safe for concurrent use;
// passes never overlap.
type Reconciler struct {
	opt     Options
	log     *slog.Logger
	servers []*directadmin.Client
	owners  push.Owners

	run    sync.Mutex // one pass at a time
	mu     sync.Mutex
	last   Report
	recent []Report // the last passes since start, newest last (the persisted one first)
}

// keepPasses bounds Recent.
const keepPasses = 20

// New returns a Reconciler, with the last persisted report loaded.
func New(ctx context.Context, opt Options) *Reconciler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxDeleteFraction <= 0 {
		opt.MaxDeleteFraction = 0.1
	}
	r := &Reconciler{opt: opt, log: opt.Logger, owners: push.NewOwners(Aliases(opt.Servers, opt.Aliases))}
	for _, s := range opt.Servers {
		r.servers = append(r.servers, directadmin.New(directadmin.Options{
			Host: s.Hostname, Port: s.Port, SSL: s.SSL, VerifySSL: opt.VerifySSL,
			Username: s.Username, Password: s.Password, IPP: opt.IPP, Timeout: opt.Timeout,
		}))
	}
	if rep, ok := r.load(ctx); ok {
		r.last = rep
		r.recent = []Report{rep}
	}
	return r
}

// Aliases merges app.owner_aliases with each server's aliases: hostname →
// the other names it pushes under.
func Aliases(servers []config.DirectAdminServer, extra map[string][]string) map[string][]string {
	out := map[string][]string{}
	for host, as := range extra {
		out[host] = append(out[host], as...)
	}
	for _, s := range servers {
		out[s.Hostname] = append(out[s.Hostname], s.Aliases...)
	}
	return out
}

// Last returns the report of the latest pass (zero before the first).
func (r *Reconciler) Last() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// Recent returns the last passes, newest first: those run since the
// process started, and the persisted one before them.
func (r *Reconciler) Recent() []Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Report, len(r.recent))
	for i, rep := range r.recent {
		out[len(out)-1-i] = rep
	}
	return out
}

// client returns the configured client for host (through aliases).
func (r *Reconciler) client(host string) *directadmin.Client {
	for _, c := range r.servers {
		if r.owners.Same(c.Host(), host) {
			return c
		}
	}
	return nil
}

// Plan polls the servers and returns the plan, changing nothing.
func (r *Reconciler) Plan(ctx context.Context) (Plan, []ServerResult, error) {
	p, results, _, err := r.plan(ctx)
	return p, results, err
}

// planTimes are where a plan's time went besides the servers.
type planTimes struct {
	store, plan float64 // seconds reading the store; making the plan
}

func (r *Reconciler) plan(ctx context.Context) (Plan, []ServerResult, planTimes, error) {
	var tm planTimes
	start := time.Now()
	zones, err := r.nodeZones(ctx)
	if err != nil {
		return Plan{}, nil, tm, err
	}
	tm.store = time.Since(start).Seconds()
	results := r.pollAll(ctx, zones)
	if err := ctx.Err(); err != nil {
		return Plan{}, nil, tm, err
	}
	start = time.Now()
	tombs, err := r.tombstones(ctx, zones, results)
	if err != nil {
		return Plan{}, nil, tm, err
	}
	tm.store += time.Since(start).Seconds()
	start = time.Now()
	p := MakePlan(Input{
		Zones: zones, Tombstones: tombs, Servers: results, Owners: r.owners,
		MaxDeleteFraction: r.opt.MaxDeleteFraction, ValidName: validName,
	})
	tm.plan = time.Since(start).Seconds()
	return p, results, tm, nil
}

func validName(s string) bool {
	n, err := zone.ParseName(s)
	return err == nil && string(n) == s
}

// RunOnce runs one pass: plan, then apply unless dryRun. The report is
// kept (Last) and persisted, also when the pass fails, unless ctx ended.
func (r *Reconciler) RunOnce(ctx context.Context, dryRun bool) (Report, Plan, error) {
	r.run.Lock()
	defer r.run.Unlock()
	rep := newReport(r.opt.Now(), dryRun)
	before := r.requests()
	p, results, tm, err := r.plan(ctx)
	rep.PlanSeconds = time.Since(rep.Started).Seconds()
	rep.StoreSeconds, rep.DecideSeconds = tm.store, tm.plan
	if err == nil {
		rep.fill(results, p)
		if !dryRun {
			start := time.Now()
			r.apply(ctx, p, &rep, results)
			rep.ApplySeconds = time.Since(start).Seconds()
		}
		rep.Backends, err = r.backendCounts(ctx)
	}
	r.countRequests(&rep, before)
	if err != nil {
		rep.Error = err.Error()
	}
	rep.Finished = r.opt.Now()
	if ctx.Err() != nil { // shutting down: the previous report stays the last
		return rep, p, err
	}
	r.keep(ctx, rep)
	r.logReport(rep)
	return rep, p, err
}

// requests snapshots each client's request counts.
func (r *Reconciler) requests() []map[string]int {
	out := make([]map[string]int, len(r.servers))
	for i, c := range r.servers {
		out[i] = c.Requests()
	}
	return out
}

// countRequests puts the requests sent since before into the report.
func (r *Reconciler) countRequests(rep *Report, before []map[string]int) {
	for i, now := range r.requests() {
		if i >= len(rep.Servers) {
			return
		}
		d := map[string]int{}
		for p, n := range now {
			if n > before[i][p] {
				d[p] = n - before[i][p]
			}
		}
		rep.Servers[i].Requests = d
	}
}

// keep stores rep in memory and in the store.
func (r *Reconciler) keep(ctx context.Context, rep Report) {
	r.mu.Lock()
	r.last = rep
	r.recent = append(r.recent, rep)
	if len(r.recent) > keepPasses {
		r.recent = r.recent[len(r.recent)-keepPasses:]
	}
	r.mu.Unlock()
	if err := r.save(ctx, rep); err != nil {
		r.log.Warn("reconcile: cannot persist the report", "err", err)
	}
}

func (r *Reconciler) logReport(rep Report) {
	attrs := []any{"dry_run", rep.DryRun, "servers", rep.Polled, "unknown", rep.Unreachable,
		"skipped", rep.Skipped, "failed", rep.Failed, "deletes_withheld", rep.DeletesWithheld}
	for _, k := range Kinds {
		attrs = append(attrs, "planned_"+string(k), rep.Planned[k], string(k), rep.Applied[k])
	}
	if rep.DeleteRefusal != "" {
		r.log.Warn("reconcile: deletions refused", "why", rep.DeleteRefusal)
	}
	if rep.Error != "" {
		attrs = append(attrs, "err", rep.Error)
	}
	attrs = append(attrs, "seconds", rep.Finished.Sub(rep.Started).Seconds(), "plan_seconds", rep.PlanSeconds,
		"store_seconds", rep.StoreSeconds, "decide_seconds", rep.DecideSeconds, "apply_seconds", rep.ApplySeconds)
	r.log.Info("reconcile: pass done", attrs...)
	for _, s := range rep.Servers {
		r.log.Info("reconcile: pass cost", "server", s.Hostname, "held", s.Held, "serial_check", s.SerialCheck,
			"dns_queries", s.DNSQueries, "dns_unchanged", s.DNSUnchanged, "dns_changed", s.DNSChanged,
			"dns_fallbacks", s.DNSFallbacks, "texts_read", s.Texts, "http_requests", fmt.Sprint(s.Requests),
			"list_seconds", s.ListSeconds, "dns_seconds", s.DNSSeconds, "text_seconds", s.TextSeconds)
	}
}

// nodeZones reads the live zones.
func (r *Reconciler) nodeZones(ctx context.Context) ([]NodeZone, error) {
	var zones []NodeZone
	owners := map[string]string{} // one copy of each owner name, not one a zone
	add := func(z store.Zone) {
		o, ok := owners[z.OwnerHost]
		if !ok {
			o = z.OwnerHost
			owners[o] = o
		}
		zones = append(zones, NodeZone{Name: z.Name, Serial: z.Serial, Owner: o, Version: z.Version})
	}
	if each, ok := r.opt.Store.(LiveStreamer); ok {
		if err := each.EachLive(ctx, func(z store.Zone) error { add(z); return nil }); err != nil {
			return nil, err
		}
		return slices.Clip(zones), nil
	}
	live, err := r.opt.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	zones = make([]NodeZone, 0, len(live))
	for i, z := range live {
		add(z)
		live[i] = store.Zone{} // let the rest of the row go as the slice is walked
	}
	return zones, nil
}

// LiveStreamer is implemented by stores that can hand over the live zones'
// metadata one row at a time (Store.List's rows, by name), so a pass over
// 100,000 zones never holds them all as full rows; the reconciler uses it
// when the store has it and Store.List otherwise.
type LiveStreamer interface {
	EachLive(ctx context.Context, fn func(store.Zone) error) error
}

// tombstones returns the stored versions of the names the complete
// servers have and this node does not hold live (deleted here, or never
// seen: absent from the map).
func (r *Reconciler) tombstones(ctx context.Context, zones []NodeZone, results []ServerResult) (map[string]int64, error) {
	live := make(map[string]bool, len(zones))
	for _, z := range zones {
		live[z.Name] = true
	}
	var names []string
	for _, s := range results {
		for n := range s.Zones {
			if !live[n] {
				names = append(names, n)
			}
		}
		for n := range s.Owners {
			if !live[n] && !s.Zones[n] {
				names = append(names, n)
			}
		}
	}
	out := map[string]int64{}
	for part := range slices.Chunk(names, tombChunk) { // bounded: rows are read in parts
		rows, err := r.opt.Store.Zones(ctx, part)
		if err != nil {
			return nil, err
		}
		for n, z := range rows {
			if z.Deleted {
				out[n] = z.Version
			}
		}
	}
	return out, nil
}

// tombChunk bounds the names of one tombstone read (a fresh node lacks
// every zone DA lists).
const tombChunk = 1000

// backendCounts reads what each backend still has to apply.
func (r *Reconciler) backendCounts(ctx context.Context) ([]BackendStatus, error) {
	var out []BackendStatus
	for _, b := range r.opt.Backends {
		s, err := r.opt.Store.Summary(ctx, b)
		if err != nil {
			return out, err
		}
		out = append(out, BackendStatus{Backend: b, Behind: s.Behind, Failing: s.Failing, Permanent: s.Permanent})
	}
	return out, nil
}

// Run waits InitialDelay, then runs a pass every Interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	mode := "live"
	if r.opt.DryRun {
		mode = "dry-run"
	}
	var names []string
	for _, c := range r.servers {
		names = append(names, c.Host())
	}
	r.log.Info("reconcile: started", "mode", mode, "interval", r.opt.Interval, "initial_delay", r.opt.InitialDelay, "servers", strings.Join(names, ","))
	if !sleep(ctx, r.opt.InitialDelay) {
		return
	}
	for {
		if r.gateOpen(ctx) {
			if _, _, err := r.RunOnce(ctx, r.opt.DryRun); err != nil && !errors.Is(err, context.Canceled) {
				r.log.Warn("reconcile: pass failed", "err", err)
			}
		}
		if !sleep(ctx, r.opt.Interval) {
			return
		}
	}
}

// gateOpen asks Gate whether this process runs the pass.
func (r *Reconciler) gateOpen(ctx context.Context) bool {
	if r.opt.Gate == nil {
		return true
	}
	ok, err := r.opt.Gate(ctx)
	if err != nil {
		r.log.Warn("reconcile: lease check failed; skipping this pass", "err", err)
		return false
	}
	if !ok {
		r.log.Debug("reconcile: another node holds the lease; skipping this pass")
	}
	return ok
}

// sleep waits d or until ctx ends; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
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
