package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/view"
)

// source is what the shared read models are built from.
func (s *Server) source() view.Source {
	return view.Source{Store: s.opt.Store, Workers: s.opt.Workers, Reconciler: s.opt.Reconciler,
		Secondaries: s.opt.Secondaries, Cluster: s.opt.Cluster, Traffic: s.opt.Traffic, Version: s.opt.Version}
}

func (s *Server) workers() []dispatch.Status {
	if s.opt.Workers == nil {
		return nil
	}
	return s.opt.Workers()
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	doc, err := view.BuildStatus(r.Context(), s.source())
	if err != nil {
		s.log.Error("status failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "error", "error": "store unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// healthz reports that the process serves HTTP.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports whether the store takes writes and every backend worker
// is alive: 200 or 503, with the reasons.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var problems []string
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	if err := s.opt.Store.SetSetting(r.Context(), "readyz_probe", stamp); err != nil {
		s.log.Error("readyz: store not writable", "err", err)
		problems = append(problems, "store is not writable")
	}
	checks := map[string]string{}
	for _, wk := range s.workers() {
		switch {
		case !wk.Alive:
			checks[wk.Backend] = "worker not running"
			problems = append(problems, wk.Backend+": worker not running")
		case wk.LastError != "":
			checks[wk.Backend] = "last pass failed: " + wk.LastError
		default:
			checks[wk.Backend] = "ok"
		}
	}
	code, ready := http.StatusOK, len(problems) == 0
	if !ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"ready": ready, "problems": problems, "backends": checks})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// maxTrafficTop bounds ?top= of GET /api/v1/traffic.
const maxTrafficTop = 1000

// traffic is GET /api/v1/traffic?top=N: the builtin instances' per-zone
// answer counts with the N (default 20, at most 1000) busiest zones by
// answers and by NXDOMAIN. Reading changes nothing.
func (s *Server) traffic(w http.ResponseWriter, r *http.Request) {
	if s.opt.Traffic == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no per-zone counts: no builtin instance with zone_counts on"})
		return
	}
	top := 0
	if v := r.URL.Query().Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTrafficTop {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "top: want a number from 1 to " + strconv.Itoa(maxTrafficTop)})
			return
		}
		top = n
	}
	writeJSON(w, http.StatusOK, s.opt.Traffic(top))
}
