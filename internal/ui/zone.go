package ui

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/view"
	"github.com/dadns/dadns/internal/zone"
)

// maxRecordRows bounds the records table; the full text is below it.
const maxRecordRows = 2000

// record is one row of the records table.
type record struct {
	Name, TTL, Type, Data string
}

type zoneData struct {
	Z         view.ZoneDetail
	Records   []record
	Truncated int // records not shown
	History   []store.HistoryEntry
	Pending   bool // some backend has not applied the zone yet
	Failing   bool
	Down      map[string]dispatch.Status // backends not answering, by name
	Ask       *askData
}

// askData is the "what does it answer" box.
type askData struct {
	Backends []string
	Backend  string
	Name     string
	Type     string
	Types    []string
	Reply    *dnsserver.Reply
	Err      string
}

var askTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "SOA", "TXT", "SRV", "CAA", "PTR", "DS", "DNSKEY", "ANY"}

// pathZone validates the {name} path value.
func pathZone(r *http.Request) (zone.Name, bool) {
	n, err := zone.ParseName(r.PathValue("name"))
	return n, err == nil
}

func (s *Server) zone(w http.ResponseWriter, r *http.Request) {
	name, ok := pathZone(r)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "That is not a zone name.")
		return
	}
	ctx := r.Context()
	z, err := view.Zone(ctx, s.opt.Store, name.String())
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No zone of that name is held.")
		return
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	hist, err := s.opt.Store.History(ctx, name.String())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	d := zoneData{Z: z, History: hist, Failing: len(z.Failing) > 0, Down: map[string]dispatch.Status{}}
	for _, w := range s.downWorkers() {
		d.Down[w.Backend] = w
	}
	d.Records, d.Truncated = records(z.Canonical)
	for _, b := range z.Backends {
		d.Pending = d.Pending || b.State == string(store.StatePending)
	}
	d.Ask = s.ask(r, name)
	p := page{Title: z.Name, Nav: "zones", Data: d}
	if d.Pending {
		p.Refresh = 2
	}
	s.render(w, r, http.StatusOK, "zone", p)
}

// records splits the canonical text ("name\tttl\tIN\ttype\tdata" lines).
func records(canonical string) ([]record, int) {
	var out []record
	extra := 0
	for line := range strings.Lines(canonical) {
		f := strings.SplitN(strings.TrimRight(line, "\n"), "\t", 5)
		if len(f) != 5 {
			continue
		}
		if len(out) >= maxRecordRows {
			extra++
			continue
		}
		out = append(out, record{Name: f[0], TTL: f[1], Type: f[3], Data: f[4]})
	}
	return out, extra
}

// ask fills the answer box from the query string (?ask=NAME&type=T&via=B),
// when a builtin backend serves this zone.
func (s *Server) ask(r *http.Request, zn zone.Name) *askData {
	if len(s.opt.Resolvers) == 0 {
		return nil
	}
	a := &askData{Backends: slices.Sorted(maps.Keys(s.opt.Resolvers)), Types: askTypes}
	q := r.URL.Query()
	a.Backend, a.Name, a.Type = q.Get("via"), q.Get("ask"), strings.ToUpper(q.Get("type"))
	if _, ok := s.opt.Resolvers[a.Backend]; !ok {
		a.Backend = a.Backends[0]
	}
	if a.Type == "" {
		a.Type = "A"
	}
	if a.Name == "" {
		a.Name = zn.String()
		return a
	}
	if !q.Has("ask") {
		return a
	}
	name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a.Name)), ".")
	if name != zn.String() && !strings.HasSuffix(name, "."+zn.String()) {
		a.Err = "Ask for a name inside " + zn.String() + "."
		return a
	}
	rep, err := s.opt.Resolvers[a.Backend].Ask(name, a.Type)
	if err != nil {
		a.Err = "Not asked: " + err.Error()
		return a
	}
	a.Reply = &rep
	return a
}

// resync stores the zone again for every backend, or (form field
// backend) makes one backend apply it again.
func (s *Server) resync(w http.ResponseWriter, r *http.Request) {
	name, ok := pathZone(r)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "That is not a zone name.")
		return
	}
	ctx := r.Context()
	path := "/ui/zones/" + name.String()
	if b := r.PostFormValue("backend"); b != "" {
		err := s.opt.Store.ResyncOn(ctx, name.String(), b)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "That zone is not held, or that backend has no state for it.")
			return
		}
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		s.log.Info("ui: resync on one backend", "zone", name, "backend", b)
		s.opt.Wake()
		redirect(w, r, path, "resynced-one", 0)
		return
	}
	_, err := s.opt.Push.Resync(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No zone of that name is held.")
		return
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	redirect(w, r, path, "resynced", 0)
}

// retryZone makes the zone's waiting retries due now.
func (s *Server) retryZone(w http.ResponseWriter, r *http.Request) {
	name, ok := pathZone(r)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "That is not a zone name.")
		return
	}
	n, err := s.opt.Store.RetryZoneNow(r.Context(), name.String())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.opt.Wake()
	back := "/ui/zones/" + name.String()
	if r.PostFormValue("from") == "failures" {
		back = "/ui/failures"
	}
	redirect(w, r, back, "retried", n)
}

// deleteZone deletes the zone when the form repeats its name.
func (s *Server) deleteZone(w http.ResponseWriter, r *http.Request) {
	name, ok := pathZone(r)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "That is not a zone name.")
		return
	}
	path := "/ui/zones/" + name.String()
	typed, err := zone.ParseName(r.PostFormValue("confirm"))
	if err != nil || typed != name {
		redirect(w, r, path, "delete-mismatch", 0)
		return
	}
	outcome, err := s.opt.Push.DeleteAny(r.Context(), name)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if outcome != push.Deleted {
		s.fail(w, r, http.StatusNotFound, "No zone of that name is held.")
		return
	}
	s.log.Info("ui: zone deleted by an operator", "zone", name)
	redirect(w, r, "/ui/zones", "deleted", 0)
}
