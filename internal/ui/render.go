package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// pageTemplate is one page: the layout plus the page's own templates.
type pageTemplate struct {
	t *template.Template
}

// pageNames are the pages; each has templates/<name>.html.
var pageNames = []string{"overview", "zones", "zone", "reconcile", "failures", "error"}

func mustParsePages() map[string]*pageTemplate {
	out := map[string]*pageTemplate{}
	for _, name := range pageNames {
		t := template.New("layout.html").Funcs(funcs)
		t = template.Must(t.ParseFS(assets, "templates/layout.html", "templates/"+name+".html"))
		out[name] = &pageTemplate{t: t}
	}
	return out
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string // the highlighted menu entry
	CSRF    string
	Flash   string
	Error   bool // the flash reports a failure
	Version string
	Refresh int // seconds between automatic reloads (ui.js); 0: none
	Data    any
}

// render writes page name with status code; a template failure is a 500
// with no detail (the log keeps it).
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	p.CSRF = s.token(r)
	p.Version = s.opt.Source.Version
	if p.Flash == "" {
		p.Flash, p.Error = flashOf(r.URL.Query())
	}
	var buf bytes.Buffer
	if err := s.pages[name].t.Execute(&buf, p); err != nil {
		s.log.Error("ui: page not rendered", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// fail renders the error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", page{Title: http.StatusText(code), Flash: msg, Error: true,
		Data: map[string]any{"Code": code, "Text": http.StatusText(code)}})
}

// storeFailed logs a store error and answers 503 without its text.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("ui: store request failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusServiceUnavailable, "The store did not answer; see the log.")
}

// flashes are the messages a redirect after a form may show; the URL
// names one (and a count), never free text.
var flashes = map[string]string{
	"resynced":        "Resync stored: every backend applies the zone again.",
	"resynced-one":    "Resync stored for the chosen backend.",
	"retried":         "Retries made due now: %d.",
	"deleted":         "Zone deleted: the backends remove it.",
	"delete-mismatch": "Not deleted: type the zone name exactly to confirm.",
	"started":         "Reconciliation pass started; reload to see it below when it is done.",
	"busy":            "A reconciliation pass started here is still running.",
	"ask-failed":      "That question could not be asked: check the name and type.",
}

// failedFlashes are flashes that report a refusal.
var failedFlashes = map[string]bool{"delete-mismatch": true, "busy": true, "ask-failed": true}

func flashOf(q url.Values) (string, bool) {
	key := q.Get("done")
	msg, ok := flashes[key]
	if !ok {
		return "", false
	}
	if strings.Contains(msg, "%d") {
		n, _ := strconv.Atoi(q.Get("n"))
		msg = fmt.Sprintf(msg, n)
	}
	return msg, failedFlashes[key]
}

// redirect answers a form with 303 to path, naming a flash.
func redirect(w http.ResponseWriter, r *http.Request, path, done string, n int) {
	q := url.Values{"done": {done}}
	if n > 0 {
		q.Set("n", strconv.Itoa(n))
	}
	http.Redirect(w, r, path+"?"+q.Encode(), http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"ago":   ago,
	"until": until,
	"ts":    timestamp,
	"num":   num,
	"bytes": byteSize,
	"dur":   duration,
	"secs":  func(f float64) string { return duration(time.Duration(f * float64(time.Second))) },
	"add":   func(a, b int) int { return a + b },
	"zonePath": func(name string) string {
		return "/ui/zones/" + url.PathEscape(name)
	},
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n]
	},
}

// Times are shown relative to now, with the UTC time in the title.
var nowFunc = time.Now

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := nowFunc().Sub(t)
	if d < 0 {
		return "just now"
	}
	return duration(d) + " ago"
}

func until(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(nowFunc())
	if d <= 0 {
		return "due now"
	}
	return "in " + duration(d)
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// duration is a short human duration: 850ms, 42s, 3m 5s, 2h 10m, 3d 4h.
func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// num writes n with thousands separators.
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10) + " B"
}

var _ fs.FS = assets
