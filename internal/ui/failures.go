package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/dispatch"

	"github.com/dadns/dadns/internal/store"
)

// maxFailureRows bounds the failures page.
const maxFailureRows = 100

type failuresData struct {
	Rows  []store.BackendState
	Total int
	Live  map[string]bool   // zones still held; the others' failures are deletes
	Down  []dispatch.Status // backends that do not answer: nothing is applied there
}

// downWorkers are the backend workers that are down or stopped.
func (s *Server) downWorkers() []dispatch.Status {
	if s.opt.Source.Workers == nil {
		return nil
	}
	var out []dispatch.Status
	for _, w := range s.opt.Source.Workers() {
		if w.Down || !w.Alive {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b dispatch.Status) int { return strings.Compare(a.Backend, b.Backend) })
	return out
}

func (s *Server) failures(w http.ResponseWriter, r *http.Request) {
	rows, total, err := s.opt.Store.RecentFailures(r.Context(), maxFailureRows)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	names := make([]string, len(rows))
	for i, st := range rows {
		names[i] = st.Zone
	}
	held, err := s.opt.Store.Live(r.Context(), names)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	live := make(map[string]bool, len(held))
	for n := range held {
		live[n] = true
	}
	s.render(w, r, http.StatusOK, "failures", page{Title: "Failures", Nav: "failures", Refresh: 15,
		Data: failuresData{Rows: rows, Total: total, Live: live, Down: s.downWorkers()}})
}

// retryAll makes every waiting retry on every backend due now.
func (s *Server) retryAll(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	n := 0
	if s.opt.Source.Workers == nil {
		redirect(w, r, "/ui/failures", "retried", 0)
		return
	}
	for _, wk := range s.opt.Source.Workers() {
		k, err := s.opt.Store.RetryNow(ctx, wk.Backend)
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		n += k
	}
	s.opt.Wake()
	s.log.Info("ui: every waiting retry made due", "zones", n)
	redirect(w, r, "/ui/failures", "retried", n)
}
