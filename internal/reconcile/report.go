package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// SettingKey is the store setting holding the last pass's Report (JSON).
const SettingKey = "reconcile.last_report"

// Report is the result of one pass, kept for the status endpoint.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	DryRun   bool      `json:"dry_run"`

	Servers     []ServerStatus `json:"servers"`
	Polled      int            `json:"servers_polled"`
	Unreachable int            `json:"servers_unknown"` // no complete answer

	Planned map[Kind]int `json:"planned"` // actions per kind in the plan
	Applied map[Kind]int `json:"applied"` // actions done per kind (none in dry-run)
	Failed  int          `json:"failed"`  // actions that failed (retried next pass)
	Skipped int          `json:"skipped"` // zones a push changed meanwhile
	// PlanSeconds is the time to poll the servers and plan, of which
	// StoreSeconds reading the store and DecideSeconds the pure plan;
	// ApplySeconds the time to carry out the plan.
	PlanSeconds   float64 `json:"plan_seconds"`
	StoreSeconds  float64 `json:"store_seconds"`
	DecideSeconds float64 `json:"decide_seconds"`
	ApplySeconds  float64 `json:"apply_seconds"`

	DeletesWithheld int    `json:"deletes_withheld"`
	DeleteRefusal   string `json:"delete_refusal,omitempty"` // why deletions were refused
	Untouched       int    `json:"untouched"`                // zones of servers not configured
	Undecided       int    `json:"undecided"`

	// Backends are what the dispatcher still has to heal, per backend.
	Backends []BackendStatus `json:"backends"`
	Error    string          `json:"error,omitempty"`
}

// ServerStatus is one server's answer in a pass.
type ServerStatus struct {
	Hostname string `json:"hostname"`
	Complete bool   `json:"complete"`
	Zones    int    `json:"zones"`
	Domains  int    `json:"domains"`
	Error    string `json:"error,omitempty"`
	ServerCost
}

// BackendStatus counts zones a backend does not serve at their latest
// version yet; the dispatcher heals them.
type BackendStatus struct {
	Backend   string `json:"backend"`
	Behind    int    `json:"behind"`
	Failing   int    `json:"failing"`
	Permanent int    `json:"permanent"`
}

// newReport starts the report of a pass.
func newReport(start time.Time, dry bool) Report {
	return Report{Started: start, DryRun: dry, Planned: map[Kind]int{}, Applied: map[Kind]int{}}
}

// fill records the servers' answers and the plan.
func (rep *Report) fill(results []ServerResult, p Plan) {
	for _, s := range results {
		rep.Servers = append(rep.Servers, ServerStatus{Hostname: s.Host, Complete: s.Complete,
			Zones: len(s.Zones), Domains: len(s.Owners), Error: s.Err, ServerCost: s.Cost})
		rep.Polled++
		if !s.Complete {
			rep.Unreachable++
		}
	}
	for _, a := range p.Actions {
		rep.Planned[a.Kind]++
	}
	rep.DeletesWithheld, rep.DeleteRefusal = len(p.Withheld), p.DeleteRefusal
	rep.Untouched, rep.Undecided = p.Untouched, len(p.Undecided)
}

// save persists rep so it survives restarts.
func (r *Reconciler) save(ctx context.Context, rep Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	return r.opt.Store.SetSetting(ctx, SettingKey, string(b))
}

// load reads the persisted report, if any.
func (r *Reconciler) load(ctx context.Context) (Report, bool) {
	v, err := r.opt.Store.GetSetting(ctx, SettingKey)
	if err != nil {
		return Report{}, false
	}
	var rep Report
	if json.Unmarshal([]byte(v), &rep) != nil {
		return Report{}, false
	}
	return rep, true
}

// WritePlan prints the plan, one action a line, then what is withheld.
func WritePlan(w io.Writer, p Plan) {
	for _, s := range p.Unknown {
		fmt.Fprintf(w, "server %s: answer unknown (nothing is deleted while it is)\n", s)
	}
	for _, a := range p.Actions {
		fmt.Fprintln(w, a)
	}
	for _, a := range p.Withheld {
		fmt.Fprintf(w, "withheld %s\n", a)
	}
	if p.DeleteRefusal != "" {
		fmt.Fprintf(w, "deletions refused: %s\n", p.DeleteRefusal)
	}
	fmt.Fprintf(w, "plan: %d fetch, %d migrate, %d backfill, %d delete; %d withheld, %d undecided, %d owned by servers not configured\n",
		p.Count(Fetch), p.Count(Migrate), p.Count(Backfill), p.Count(Delete), len(p.Withheld), len(p.Undecided), p.Untouched)
}
