package api

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/zone"
)

func (s *Server) loginTest(w http.ResponseWriter, r *http.Request) {
	ok(w, kv{"text", "Login OK"})
}

// dnsAdmin dispatches CMD_API_DNS_ADMIN on its action.
func (s *Server) dnsAdmin(w http.ResponseWriter, r *http.Request) {
	if !daMethod(r.Method) {
		w.Header().Set("Allow", "GET, HEAD, POST")
		fail(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: DirectAdmin sends GET and POST")
		return
	}
	p, err := readParams(w, r, s.opt.MaxBodyBytes)
	switch {
	case errors.Is(err, errTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", s.opt.MaxBodyBytes))
		return
	case err != nil:
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	action := p.Get("action")
	rec := &recorder{ResponseWriter: w}
	w = rec
	defer func() { s.metrics.push(action, outcome(rec.code)) }()
	switch action {
	case "exists":
		s.exists(w, r, p)
	case "rawsave":
		s.rawsave(w, r, p)
	case "delete":
		s.delete(w, r, p)
	case "":
		if r.Method == http.MethodPost {
			ok(w, kv{"text", "OK"})
			return
		}
		fail(w, http.StatusBadRequest, "no action given")
	default:
		fail(w, http.StatusBadRequest, fmt.Sprintf("unknown action %q", action))
	}
}

// daMethod reports whether DirectAdmin uses method; no other method may
// reach an action, so that no proxy or tool can change zones with one.
func daMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost
}

// outcome names a reply's status code for the push metrics.
func outcome(code int) string {
	switch {
	case code < 300:
		return "ok"
	case code < 500:
		return "refused"
	default:
		return "error"
	}
}

// domainParam validates the domain parameter.
func domainParam(p params) (zone.Name, error) {
	d := p.Get("domain")
	if d == "" {
		return "", errors.New("missing domain")
	}
	n, err := zone.ParseName(d)
	if err != nil {
		return "", fmt.Errorf("invalid domain: %w", err)
	}
	return n, nil
}

// exists answers DA's Domain Check: the zone itself, or with
// check_for_parent_domain its nearest hosted ancestor.
func (s *Server) exists(w http.ResponseWriter, r *http.Request, p params) {
	name, err := domainParam(p)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	names := []string{name.String()}
	if flag(p.Values, "check_for_parent_domain") {
		for n, more := name.Parent(); more; n, more = n.Parent() {
			names = append(names, n.String())
		}
	}
	live, err := s.opt.Store.Live(r.Context(), names)
	if err != nil {
		s.storeFailed(w, "exists", name, err)
		return
	}
	if z, found := live[names[0]]; found {
		ok(w, kv{"exists", "1"}, kv{"details", "Domain exists on " + z.OwnerHost})
		return
	}
	for _, n := range names[1:] {
		z, found := live[n]
		if !found {
			continue
		}
		if s.opt.SubdomainOwnerCheck {
			ok(w, kv{"exists", "3"}, kv{"hostname", z.OwnerHost}, kv{"username", z.OwnerUser})
		} else {
			ok(w, kv{"exists", "2"}, kv{"details", "Parent Domain exists on " + z.OwnerHost})
		}
		return
	}
	ok(w, kv{"exists", "0"})
}

// rawsave stores a pushed zone; the reply comes after the commit.
func (s *Server) rawsave(w http.ResponseWriter, r *http.Request, p params) {
	name, err := domainParam(p)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	host := strings.TrimSpace(p.Get("hostname"))
	_, err = s.push.Save(r.Context(), name, p.body, host, p.Get("username"))
	var zerr *zone.Error
	switch {
	case errors.As(err, &zerr):
		fail(w, http.StatusBadRequest, zerr.Error())
	case errors.Is(err, push.ErrZoneLimit):
		fail(w, http.StatusInsufficientStorage, err.Error())
	case err != nil:
		s.storeFailed(w, "rawsave", name, err)
	default:
		ok(w, kv{"text", "Zone saved"})
	}
}

// deleteNames collects the zones of a delete: select0..N, then domain.
func deleteNames(p params) ([]zone.Name, error) {
	var raw []string
	keys := make([]string, 0, len(p.Values))
	for k := range p.Values {
		if strings.HasPrefix(k, "select") {
			if _, err := strconv.Atoi(k[len("select"):]); err == nil {
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := strconv.Atoi(keys[i][6:])
		b, _ := strconv.Atoi(keys[j][6:])
		return a < b
	})
	for _, k := range keys {
		raw = append(raw, p.Values[k]...)
	}
	raw = append(raw, p.Values["domain"]...)
	if len(raw) == 0 {
		return nil, errors.New("delete names no zone (select0 or domain)")
	}
	var names []zone.Name
	var bad []string
	for _, d := range raw {
		n, err := zone.ParseName(d)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		names = append(names, n)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("invalid domain: %s", strings.Join(bad, "; "))
	}
	return names, nil
}

// errNoHostname refuses a DA delete that does not say which server sends it.
const errNoHostname = "delete without hostname refused: DirectAdmin names the server that deletes, " +
	"and only the zone's owner may delete it (an operator deletes with `dadns zones delete NAME`)"

// delete tombstones each named zone the pushing server owns. A delete from
// another server is refused quietly (error=0): it is the normal aftermath of
// a domain that moved between DA servers. A delete that names no server is
// refused (error=1): DirectAdmin always names itself, and an anonymous
// delete must not remove whatever server owns the zone.
func (s *Server) delete(w http.ResponseWriter, r *http.Request, p params) {
	names, err := deleteNames(p)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	host := strings.TrimSpace(p.Get("hostname"))
	if host == "" {
		s.log.Warn("delete without hostname refused", "zones", len(names))
		fail(w, http.StatusBadRequest, errNoHostname)
		return
	}
	deleted := 0
	for _, name := range names {
		outcome, err := s.push.Delete(r.Context(), name, host)
		if err != nil {
			s.storeFailed(w, "delete", name, err)
			return
		}
		if outcome == push.Deleted {
			deleted++
		}
	}
	ok(w, kv{"text", fmt.Sprintf("%d zone(s) deleted", deleted)})
}

// storeFailed answers a store error with error=1 so DA shows it; the push is
// not acknowledged.
func (s *Server) storeFailed(w http.ResponseWriter, op string, name zone.Name, err error) {
	s.log.Error("store failed", "op", op, "zone", name, "err", err)
	fail(w, http.StatusServiceUnavailable, "storage error: the change was not saved")
}
