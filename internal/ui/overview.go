package ui

import (
	"html/template"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/view"
)

// backendRow is one backend instance on the overview.
type backendRow struct {
	Name    string
	State   string
	B       view.Backend
	Desired int // live zones: what every backend should serve
}

type overviewData struct {
	Status       view.Status
	Backends     []backendRow
	Failing      int
	PushChart    template.HTML
	LatencyChart template.HTML
	PushesHour   int
	BatchesHour  int
	Reconcile    *reconcile.Report
	ReconcileOn  bool
	Uptime       time.Duration
	Started      time.Time
	StoreSize    int64
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := view.BuildStatus(ctx, s.opt.Source)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	size, err := s.opt.Store.SizeBytes(ctx)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	d := overviewData{Status: st, StoreSize: size, Started: s.opt.Started,
		Uptime: s.opt.Now().Sub(s.opt.Started), ReconcileOn: s.opt.Reconciler != nil}
	for _, name := range slices.Sorted(maps.Keys(st.Backends)) {
		b := st.Backends[name]
		d.Backends = append(d.Backends, backendRow{Name: name, State: b.State(), B: b, Desired: st.Zones.Total})
		d.Failing += b.Failing + b.Permanent
	}
	if s.opt.Reconciler != nil {
		if passes := s.opt.Reconciler.Recent(); len(passes) > 0 {
			d.Reconcile = &passes[0]
		}
	}
	if s.opt.Activity != nil {
		hour := s.opt.Activity.Hour()
		d.PushChart, d.LatencyChart = pushChart(hour), latencyChart(hour)
		for _, b := range hour {
			d.PushesHour += b.Pushes
			d.BatchesHour += b.Batches
		}
	}
	s.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Refresh: 15, Data: d})
}
