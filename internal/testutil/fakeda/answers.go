package fakeda

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// listing answers one CMD_DNS_ADMIN JSON page: numbered entries
// {"domain": ...} and an info object with the page count.
func (s *Server) listing(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("json") != "yes" {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>DNS Administration</body></html>"))
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	ipp, _ := strconv.Atoi(q.Get("ipp"))
	page, ipp = max(page, 1), max(ipp, 1)
	s.mu.Lock()
	if s.sorted == nil {
		s.sorted = slices.DeleteFunc(slices.Sorted(maps.Keys(s.zones)), func(n string) bool { return s.unlisted[n] })
	}
	names := s.sorted
	noInfo := s.fault == NoInfo
	s.mu.Unlock()
	total := max((len(names)+ipp-1)/ipp, 1)
	out := map[string]any{}
	for i := (page - 1) * ipp; i < min(page*ipp, len(names)); i++ {
		out[strconv.Itoa(i-(page-1)*ipp)] = map[string]any{"domain": names[i], "records": 10}
	}
	if !noInfo {
		var tp any = total
		if s.opt.StringNumbers {
			tp = strconv.Itoa(total)
		}
		out["info"] = map[string]any{"current_page": page, "total_pages": tp, "ipp": ipp, "rows": len(names)}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// domainOwners answers `domain=user&...` for the local domains.
func (s *Server) domainOwners(w http.ResponseWriter) {
	s.mu.Lock()
	var parts []string
	for _, d := range slices.Sorted(maps.Keys(s.owners)) {
		if s.unlisted[d] {
			continue
		}
		parts = append(parts, url.QueryEscape(d)+"="+url.QueryEscape(s.owners[d]))
	}
	s.mu.Unlock()
	plain(w, strings.Join(parts, "&"))
}

// zoneText answers the raw zone file of ?domain=.
func (s *Server) zoneText(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.URL.Query().Get("domain"))
	s.mu.Lock()
	text, ok := s.zones[name]
	if ok {
		s.zoneFetches++
		s.fetches[name]++
	}
	s.mu.Unlock()
	if !ok {
		plain(w, "error=1&text="+url.QueryEscape("No such zone "+name))
		return
	}
	plain(w, text)
}

// Zone returns a zone file shaped like DA's (leading blank lines, $TTL, a
// multi-line SOA, tab-separated relative and absolute owners, no $ORIGIN)
// with the given serial; www points at 192.0.2.<serial mod 250>.
func Zone(name string, serial uint32) string {
	return fmt.Sprintf("\n\n\n$TTL 3600\n@\tIN\tSOA\tns1.%[1]s.\thostmaster.%[1]s. (\n\t\t%[2]d\n\t\t3600\n\t\t3600\n\t\t1209600\n\t\t86400 )\n\n"+
		"%[1]s.\t3600\tIN\tNS\tns1.%[1]s.\n%[1]s.\t3600\tIN\tA\t192.0.2.1\nns1\t3600\tIN\tA\t192.0.2.1\nwww\t3600\tIN\tA\t192.0.2.%[3]d\n",
		name, serial, serial%250)
}
