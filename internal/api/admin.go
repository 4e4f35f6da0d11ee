package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// zoneSummary is one zone in GET /api/v1/zones.
type zoneSummary struct {
	Name      string    `json:"name"`
	Serial    uint32    `json:"serial"`
	Version   int64     `json:"version"`
	OwnerHost string    `json:"owner_host"`
	OwnerUser string    `json:"owner_user"`
	Updated   time.Time `json:"updated"`
	Failing   []string  `json:"failing,omitempty"` // backends failing this zone
}

// zoneDetail is GET /api/v1/zones/{name}.
type zoneDetail struct {
	zoneSummary
	Hash      string            `json:"hash"`
	Created   time.Time         `json:"created"`
	Canonical string            `json:"canonical"`
	Original  string            `json:"original"`
	Backends  []backendStateDoc `json:"backends"`
}

// backendStateDoc is one backend's state of one zone.
type backendStateDoc struct {
	Backend        string    `json:"backend"`
	State          string    `json:"state"`
	DesiredVersion int64     `json:"desired_version"`
	AppliedVersion int64     `json:"applied_version"`
	AppliedHash    string    `json:"applied_hash,omitempty"`
	AppliedAt      time.Time `json:"applied_at,omitzero"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"last_error,omitempty"`
	FailedAt       time.Time `json:"failed_at,omitzero"`
	NextAttempt    time.Time `json:"next_attempt,omitzero"`
}

func summarizeZone(z store.Zone) zoneSummary {
	return zoneSummary{Name: z.Name, Serial: z.Serial, Version: z.Version,
		OwnerHost: z.OwnerHost, OwnerUser: z.OwnerUser, Updated: z.Updated}
}

// listZones answers GET /api/v1/zones[?failing=1].
func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	troubled, err := s.opt.Store.Troubled(ctx)
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	failing := map[string][]string{}
	for _, t := range troubled {
		failing[t.Zone] = append(failing[t.Zone], t.Backend)
	}
	zones, err := s.opt.Store.List(ctx)
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	onlyFailing := flag(r.URL.Query(), "failing")
	out := make([]zoneSummary, 0, len(zones))
	for _, z := range zones {
		sum := summarizeZone(z)
		sum.Failing = failing[z.Name]
		if onlyFailing && len(sum.Failing) == 0 {
			continue
		}
		out = append(out, sum)
	}
	writeJSON(w, http.StatusOK, out)
}

// zoneName validates the {name} path value.
func zoneName(w http.ResponseWriter, r *http.Request) (zone.Name, bool) {
	n, err := zone.ParseName(r.PathValue("name"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid zone name: " + err.Error()})
		return "", false
	}
	return n, true
}

// showZone answers GET /api/v1/zones/{name}.
func (s *Server) showZone(w http.ResponseWriter, r *http.Request) {
	name, ok := zoneName(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	z, err := s.opt.Store.Get(ctx, name.String())
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "zone not held: " + name.String()})
		return
	}
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	states, err := s.opt.Store.BackendStates(ctx, name.String())
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	d := zoneDetail{zoneSummary: summarizeZone(z), Hash: z.Hash, Created: z.Created,
		Canonical: z.Canonical, Original: z.Original, Backends: []backendStateDoc{}}
	for _, st := range states {
		if st.State == store.StateFailed || st.State == store.StatePermanent {
			d.Failing = append(d.Failing, st.Backend)
		}
		d.Backends = append(d.Backends, backendStateDoc{
			Backend: st.Backend, State: string(st.State), DesiredVersion: st.DesiredVersion,
			AppliedVersion: st.AppliedVersion, AppliedHash: st.AppliedHash, AppliedAt: st.AppliedAt,
			Attempts: st.Attempts, LastError: st.LastError, FailedAt: st.FailedAt, NextAttempt: st.NextAttempt,
		})
	}
	writeJSON(w, http.StatusOK, d)
}

// resyncZone answers POST /api/v1/zones/{name}/resync.
func (s *Server) resyncZone(w http.ResponseWriter, r *http.Request) {
	name, ok := zoneName(w, r)
	if !ok {
		return
	}
	saved, err := s.push.Resync(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "zone not held: " + name.String()})
		return
	}
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"zone": saved.Name, "version": saved.Version})
}

// resyncAll answers POST /api/v1/resync: every zone again.
func (s *Server) resyncAll(w http.ResponseWriter, r *http.Request) {
	zones, err := s.opt.Store.List(r.Context())
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	n := 0
	for _, z := range zones {
		if _, err := s.push.Resync(r.Context(), zone.Name(z.Name)); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.adminStoreFailed(w, err)
			return
		}
		n++
	}
	writeJSON(w, http.StatusOK, map[string]any{"resynced": n})
}

// deleteZone answers DELETE /api/v1/zones/{name}: an operator's delete,
// whoever owns the zone.
func (s *Server) deleteZone(w http.ResponseWriter, r *http.Request) {
	name, ok := zoneName(w, r)
	if !ok {
		return
	}
	outcome, err := s.push.DeleteAny(r.Context(), name)
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	if outcome == push.Absent {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "zone not held: " + name.String()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": name.String()})
}

func (s *Server) adminStoreFailed(w http.ResponseWriter, err error) {
	s.log.Error("admin request failed", "err", err)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage error"})
}
