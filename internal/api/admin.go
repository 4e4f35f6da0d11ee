package api

import (
	"errors"
	"net/http"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/view"
	"github.com/dadns/dadns/internal/zone"
)

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
	out := make([]view.ZoneSummary, 0, len(zones))
	for _, z := range zones {
		sum := view.Summarize(z)
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
	d, err := view.Zone(r.Context(), s.opt.Store, name.String())
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "zone not held: " + name.String()})
		return
	}
	if err != nil {
		s.adminStoreFailed(w, err)
		return
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
