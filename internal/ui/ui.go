// Package ui serves the operator pages under /ui/: an overview of every
// backend instance, the zones with search and filters, one zone with its
// records, history and per-backend state, the reconciliation passes and
// the recent failures. Pages are rendered on the server with html/template
// from the same read models as the admin API (internal/view); the CSS and
// the one small script are embedded, so nothing is fetched at run time and
// every page reads without JavaScript.
//
// The handler expects to sit behind the admin credentials (internal/api
// mounts it behind the same HTTP Basic check and failure limiter as the
// admin API). Every state-changing form carries a token derived from those
// credentials.
package ui

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/dadns/dadns/internal/activity"
	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/view"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Reconciler is what the reconcile page needs of internal/reconcile.
type Reconciler interface {
	Recent() []reconcile.Report
	Plan(ctx context.Context) (reconcile.Plan, []reconcile.ServerResult, error)
	RunOnce(ctx context.Context, dryRun bool) (reconcile.Report, reconcile.Plan, error)
}

// Resolver answers a question the way a builtin backend's DNS server does.
type Resolver interface {
	Ask(name, qtype string) (dnsserver.Reply, error)
}

// Options configure the pages.
type Options struct {
	Store store.Operator
	Push  *push.Service
	// Source builds the status read model (the admin API's /status).
	Source view.Source
	// Reconciler runs passes; nil when reconciliation is off.
	Reconciler Reconciler
	// Activity holds the per-minute counts for the charts (nil: no charts).
	Activity *activity.Recorder
	// Resolvers are the builtin backend instances by name, for the
	// "what does it answer" box.
	Resolvers map[string]Resolver
	// Wake makes the backend workers look for due zones now.
	Wake func()
	// Started is when the process started (uptime).
	Started time.Time
	// RunContext bounds work started from a page that outlives the
	// request (a reconciliation pass); it ends at shutdown.
	RunContext context.Context
	Logger     *slog.Logger
	Now        func() time.Time
}

// Server renders the operator pages.
type Server struct {
	opt       Options
	log       *slog.Logger
	pages     map[string]*pageTemplate
	csrfKey   []byte
	running   atomic.Bool // a pass started from the reconcile page is running
	crossSite *http.CrossOriginProtection
}

// New returns a Server; it panics only if the embedded templates are
// broken, which the tests catch.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Wake == nil {
		opt.Wake = func() {}
	}
	if opt.RunContext == nil {
		opt.RunContext = context.Background()
	}
	if opt.Started.IsZero() {
		opt.Started = opt.Now()
	}
	return &Server{opt: opt, log: opt.Logger, pages: mustParsePages(), csrfKey: newKey(),
		crossSite: http.NewCrossOriginProtection()}
}

// Handler returns the pages, rooted at /ui/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /ui/{$}", s.overview)
	mux.HandleFunc("GET /ui/zones", s.zones)
	mux.HandleFunc("GET /ui/zones/{name}", s.zone)
	mux.HandleFunc("POST /ui/zones/{name}/resync", s.post(s.resync))
	mux.HandleFunc("POST /ui/zones/{name}/retry", s.post(s.retryZone))
	mux.HandleFunc("POST /ui/zones/{name}/delete", s.post(s.deleteZone))
	mux.HandleFunc("GET /ui/reconcile", s.reconcilePage)
	mux.HandleFunc("POST /ui/reconcile/plan", s.post(s.reconcilePlan))
	mux.HandleFunc("POST /ui/reconcile/run", s.post(s.reconcileRun))
	mux.HandleFunc("GET /ui/failures", s.failures)
	mux.HandleFunc("POST /ui/failures/retry", s.post(s.retryAll))
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "No such page.")
	})
	return secureHeaders(mux)
}

// secureHeaders sets the headers of every answer: no script but our own
// file, no framing, no sniffing, no caching, no referrer.
func secureHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
