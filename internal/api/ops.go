package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/dadns/dadns/internal/dispatch"
)

// statusDoc is GET /status: the Python directdnsonly's shape (status,
// queues, workers, reconciler, peer_sync, zones) so its users' monitoring
// keeps working, plus a section per backend instance.
type statusDoc struct {
	Status     string                   `json:"status"` // ok, degraded or error
	Version    string                   `json:"version"`
	Queues     queuesDoc                `json:"queues"`
	Workers    workersDoc               `json:"workers"`
	Reconciler any                      `json:"reconciler"`
	PeerSync   map[string]any           `json:"peer_sync"`
	Zones      zonesDoc                 `json:"zones"`
	Backends   map[string]backendStatus `json:"backends"`
	Cluster    any                      `json:"cluster,omitempty"`
	// Secondaries lists who asked the builtin for transfers (when
	// transfers are configured).
	Secondaries any `json:"secondaries,omitempty"`
}

type queuesDoc struct {
	Save        int `json:"save"`         // zone saves not yet applied, summed over backends
	Delete      int `json:"delete"`       // zone deletes not yet applied, summed over backends
	Retry       int `json:"retry"`        // (zone, backend) pairs waiting for a retry
	DeadLetters int `json:"dead_letters"` // permanent failures, waiting for a new push
}

// workersDoc keeps the Python names: each is true when every backend
// worker loop is alive (dadns has one loop per backend doing all three).
type workersDoc struct {
	Save       bool `json:"save"`
	Delete     bool `json:"delete"`
	RetryDrain bool `json:"retry_drain"`
}

type zonesDoc struct {
	Total int `json:"total"`
}

type backendStatus struct {
	Alive                   bool      `json:"alive"`
	Applied                 int       `json:"applied"`
	Behind                  int       `json:"behind"`
	Failing                 int       `json:"failing"`
	Permanent               int       `json:"permanent"`
	OldestPendingAgeSeconds float64   `json:"oldest_pending_age_seconds"`
	LastApply               time.Time `json:"last_apply,omitzero"`
	LastError               string    `json:"last_error,omitempty"`
	LastErrorZone           string    `json:"last_error_zone,omitempty"`
	LastPass                time.Time `json:"last_pass,omitzero"`
	PassError               string    `json:"pass_error,omitempty"`
	Died                    string    `json:"died,omitempty"`
}

// buildStatus gathers the status document.
func (s *Server) buildStatus(ctx context.Context) (statusDoc, error) {
	doc := statusDoc{Version: s.opt.Version, PeerSync: map[string]any{}, Reconciler: map[string]any{},
		Backends: map[string]backendStatus{}, Workers: workersDoc{true, true, true}}
	if s.opt.Reconciler != nil {
		if r := s.opt.Reconciler(); r != nil {
			doc.Reconciler = r
		}
	}
	if s.opt.Secondaries != nil {
		doc.Secondaries = s.opt.Secondaries()
	}
	n, err := s.opt.Store.CountLive(ctx)
	if err != nil {
		return doc, err
	}
	if s.opt.Cluster != nil {
		if doc.Cluster, err = s.opt.Cluster(ctx); err != nil {
			return doc, err
		}
	}
	doc.Zones.Total = n
	degraded, dead := false, false
	for _, w := range s.workers() {
		bs, err := s.backendStatus(ctx, w)
		if err != nil {
			return doc, err
		}
		doc.Backends[w.Backend] = bs
		applies, deletes, err := s.opt.Store.Pending(ctx, w.Backend)
		if err != nil {
			return doc, err
		}
		doc.Queues.Save += applies
		doc.Queues.Delete += deletes
		doc.Queues.Retry += bs.Failing
		doc.Queues.DeadLetters += bs.Permanent
		dead = dead || !bs.Alive
		degraded = degraded || bs.Failing > 0 || bs.Permanent > 0 || bs.PassError != ""
	}
	doc.Status = "ok"
	if degraded {
		doc.Status = "degraded"
	}
	if dead {
		doc.Status = "error"
		doc.Workers = workersDoc{}
	}
	return doc, nil
}

func (s *Server) workers() []dispatch.Status {
	if s.opt.Workers == nil {
		return nil
	}
	return s.opt.Workers()
}

func (s *Server) backendStatus(ctx context.Context, w dispatch.Status) (backendStatus, error) {
	sum, err := s.opt.Store.Summary(ctx, w.Backend)
	if err != nil {
		return backendStatus{}, err
	}
	bs := backendStatus{
		Alive: w.Alive, Applied: sum.Applied, Behind: sum.Behind, Failing: sum.Failing, Permanent: sum.Permanent,
		LastApply: sum.LastApplied, LastError: sum.LastError, LastErrorZone: sum.LastErrorZone,
		LastPass: w.LastPass, PassError: w.LastError, Died: w.Died,
	}
	if !sum.OldestPending.IsZero() {
		bs.OldestPendingAgeSeconds = time.Since(sum.OldestPending).Seconds()
	}
	return bs, nil
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	doc, err := s.buildStatus(r.Context())
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
