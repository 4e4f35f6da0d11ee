package ui

import (
	"context"
	"net/http"
	"time"

	"github.com/dadns/dadns/internal/reconcile"
)

// maxPlanRows bounds each table of a shown plan.
const maxPlanRows = 500

type reconcileData struct {
	Enabled bool
	Running bool
	Passes  []reconcile.Report
	Kinds   []reconcile.Kind
	Plan    *planView
}

// planView is a dry-run plan as shown.
type planView struct {
	P         reconcile.Plan
	Actions   []reconcile.Action
	Withheld  []reconcile.Action
	MoreAct   int
	MoreWith  int
	Servers   []reconcile.ServerResult
	Err       string
	Took      time.Duration
	Counts    map[reconcile.Kind]int
	Generated time.Time
}

func (s *Server) reconcileData() reconcileData {
	d := reconcileData{Enabled: s.opt.Reconciler != nil, Running: s.running.Load(), Kinds: reconcile.Kinds}
	if d.Enabled {
		d.Passes = s.opt.Reconciler.Recent()
	}
	return d
}

func (s *Server) reconcilePage(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Reconciliation", Nav: "reconcile", Data: s.reconcileData()}
	if s.running.Load() {
		p.Refresh = 3
	}
	s.render(w, r, http.StatusOK, "reconcile", p)
}

// reconcilePlan polls DirectAdmin and shows what a pass would do; nothing
// changes and the pass is not recorded.
func (s *Server) reconcilePlan(w http.ResponseWriter, r *http.Request) {
	d := s.reconcileData()
	if !d.Enabled {
		s.fail(w, r, http.StatusConflict, "Reconciliation is not enabled (reconciliation.enabled).")
		return
	}
	start := s.opt.Now()
	plan, servers, err := s.opt.Reconciler.Plan(r.Context())
	pv := &planView{P: plan, Servers: servers, Took: s.opt.Now().Sub(start), Generated: start, Counts: map[reconcile.Kind]int{}}
	if err != nil {
		pv.Err = err.Error()
	}
	for _, a := range plan.Actions {
		pv.Counts[a.Kind]++
	}
	pv.Actions, pv.MoreAct = firstN(plan.Actions, maxPlanRows)
	pv.Withheld, pv.MoreWith = firstN(plan.Withheld, maxPlanRows)
	d.Plan = pv
	s.render(w, r, http.StatusOK, "reconcile", page{Title: "Reconciliation", Nav: "reconcile", Data: d})
}

func firstN[T any](xs []T, n int) ([]T, int) {
	if len(xs) <= n {
		return xs, 0
	}
	return xs[:n], len(xs) - n
}

// reconcileRun starts a pass in the background; its report appears in the
// list when it is done.
func (s *Server) reconcileRun(w http.ResponseWriter, r *http.Request) {
	if s.opt.Reconciler == nil {
		s.fail(w, r, http.StatusConflict, "Reconciliation is not enabled (reconciliation.enabled).")
		return
	}
	if !s.running.CompareAndSwap(false, true) {
		redirect(w, r, "/ui/reconcile", "busy", 0)
		return
	}
	s.log.Info("ui: reconciliation pass started by an operator")
	go func(ctx context.Context) {
		defer s.running.Store(false)
		if _, _, err := s.opt.Reconciler.RunOnce(ctx, false); err != nil {
			s.log.Warn("ui: reconciliation pass failed", "err", err)
		}
	}(s.opt.RunContext)
	redirect(w, r, "/ui/reconcile", "started", 0)
}
