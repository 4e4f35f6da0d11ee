package ui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/view"
)

// pageSize is the zones per list page.
const pageSize = 50

// zoneRow is one zone in the list, with its state on each backend.
type zoneRow struct {
	view.ZoneSummary
	States []store.BackendState
}

type zonesData struct {
	Q           store.ZoneQuery
	Rows        []zoneRow
	Total       int
	From, To    int
	Prev, Next  string // links to the neighbouring pages ("" at the ends)
	BadRequest  string
	States      []option
	Sorts       []option
	FilterQuery url.Values
}

type option struct{ Value, Label string }

var (
	stateOptions = []option{{"", "any state"}, {store.FilterFailing, "failing"}, {store.FilterBehind, "behind"}}
	sortOptions  = []option{{"name", "name A→Z"}, {"-name", "name Z→A"}, {"updated", "latest change"}, {"-updated", "oldest change"}}
)

// zoneQuery reads the list's query string.
func zoneQuery(v url.Values) store.ZoneQuery {
	off, _ := strconv.Atoi(v.Get("offset"))
	return store.ZoneQuery{Search: v.Get("q"), OwnerHost: v.Get("host"), OwnerUser: v.Get("user"),
		State: v.Get("state"), Sort: v.Get("sort"), Offset: max(off, 0), Limit: pageSize}
}

func (s *Server) zones(w http.ResponseWriter, r *http.Request) {
	q := zoneQuery(r.URL.Query())
	d := zonesData{Q: q, States: stateOptions, Sorts: sortOptions}
	ctx := r.Context()
	p, err := s.opt.Store.ZonePage(ctx, q)
	if err != nil {
		// An unknown sort or state is the only way here besides the store.
		if _, serr := s.opt.Store.ZonePage(ctx, store.ZoneQuery{Limit: 1}); serr != nil {
			s.storeFailed(w, r, err)
			return
		}
		d.BadRequest = "Unknown filter or sort: showing nothing."
		s.render(w, r, http.StatusBadRequest, "zones", page{Title: "Zones", Nav: "zones", Data: d})
		return
	}
	names := make([]string, len(p.Zones))
	for i, z := range p.Zones {
		names[i] = z.Name
	}
	states, err := s.opt.Store.StatesOf(ctx, names)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	for _, z := range p.Zones {
		d.Rows = append(d.Rows, zoneRow{ZoneSummary: view.Summarize(z), States: states[z.Name]})
	}
	d.Total = p.Total
	if len(d.Rows) > 0 {
		d.From, d.To = q.Offset+1, q.Offset+len(d.Rows)
	}
	if q.Offset > 0 {
		d.Prev = listLink(r.URL.Query(), max(q.Offset-pageSize, 0))
	}
	if q.Offset+len(d.Rows) < p.Total {
		d.Next = listLink(r.URL.Query(), q.Offset+pageSize)
	}
	s.render(w, r, http.StatusOK, "zones", page{Title: "Zones", Nav: "zones", Data: d})
}

// listLink is the list URL with the same filters at another offset.
func listLink(v url.Values, offset int) string {
	c := url.Values{}
	for _, k := range []string{"q", "host", "user", "state", "sort"} {
		if x := v.Get(k); x != "" {
			c.Set(k, x)
		}
	}
	if offset > 0 {
		c.Set("offset", strconv.Itoa(offset))
	}
	return "/ui/zones?" + c.Encode()
}
