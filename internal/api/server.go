// Package api serves the HTTP endpoints DirectAdmin talks to.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dadns/dadns/internal/dispatch"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
)

// Options configure a Server.
type Options struct {
	Store       store.Store
	Push        *push.Service
	Credentials Credentials
	// MaxBodyBytes bounds a request body (HTTP 413 past it).
	MaxBodyBytes int64
	// SubdomainOwnerCheck answers exists=3 (owner of the ancestor) rather
	// than exists=2, as app.check_subdomain_owner_in_cluster_domainowners.
	SubdomainOwnerCheck bool
	Logger              *slog.Logger

	// Admin guards /status, /metrics, /readyz and /api/v1; zero means the
	// DirectAdmin credentials do.
	Admin Credentials
	// HealthzPublic serves /healthz without authentication.
	HealthzPublic bool
	// ProxySupport believes X-Forwarded-For from TrustedProxies only.
	ProxySupport   bool
	TrustedProxies []netip.Prefix
	// Workers reports each backend worker; Reconciler the last pass (nil: none).
	Workers    func() []dispatch.Status
	Reconciler func() any
	// Cluster reports the nodes sharing the store (nil: one node).
	Cluster func(context.Context) (any, error)
	// Secondaries reports the secondaries seen by the builtin's transfers
	// (nil: none configured).
	Secondaries func() any
	// Traffic reports the builtin's per-zone answer counts, the top
	// zones per instance (nil: none counted); /status and
	// GET /api/v1/traffic show it.
	Traffic func(top int) any
	// Registry receives the API's metrics and is served on /metrics (nil: none).
	Registry *prometheus.Registry
	Version  string
	// UI serves the operator pages under /ui/, behind the admin
	// credentials and the same failure limiter (nil: no /ui/ route).
	UI http.Handler
}

// Server answers DirectAdmin's Multi Server requests.
type Server struct {
	opt     Options
	auth    authenticator
	admin   authenticator
	push    *push.Service
	log     *slog.Logger
	metrics *metrics
	limiter *failLimiter
}

// Repeated authentication failures from one address within the window
// get that address refused (429) until the window has passed.
const (
	maxAuthFailures   = 20
	authFailureWindow = 5 * time.Minute
)

// DefaultMaxBodyBytes is the body limit when none is configured.
const DefaultMaxBodyBytes = 4 << 20

// New returns a Server.
func New(opt Options) *Server {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	admin := opt.Admin
	if admin.Username == "" {
		admin = opt.Credentials
	}
	return &Server{opt: opt, auth: newAuthenticator(opt.Credentials), admin: newAuthenticator(admin),
		push: opt.Push, log: opt.Logger, metrics: newMetrics(opt.Registry),
		limiter: newFailLimiter(maxAuthFailures, authFailureWindow)}
}

// Handler returns the HTTP handler with every route: DirectAdmin's with
// its credentials, the operating and admin ones with the admin credentials.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	da := func(route string, h http.HandlerFunc) {
		mux.Handle(route, s.observe(route, s.requireAuth(s.auth, h)))
	}
	adm := func(pattern, route string, h http.Handler) {
		mux.Handle(pattern, s.observe(route, s.requireAuth(s.admin, h)))
	}
	da("/CMD_API_LOGIN_TEST", s.loginTest)
	da("/CMD_API_DNS_ADMIN", s.dnsAdmin)
	da("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "unknown command")
	})
	if s.opt.HealthzPublic {
		mux.Handle("GET /healthz", s.observe("/healthz", http.HandlerFunc(s.healthz)))
	} else {
		adm("GET /healthz", "/healthz", http.HandlerFunc(s.healthz))
	}
	adm("GET /readyz", "/readyz", http.HandlerFunc(s.readyz))
	adm("GET /status", "/status", http.HandlerFunc(s.status))
	if s.opt.Registry != nil {
		adm("GET /metrics", "/metrics", promhttp.HandlerFor(s.opt.Registry, promhttp.HandlerOpts{}))
	}
	adm("GET /api/v1/zones", "/api/v1/zones", http.HandlerFunc(s.listZones))
	adm("GET /api/v1/traffic", "/api/v1/traffic", http.HandlerFunc(s.traffic))
	adm("GET /api/v1/zones/{name}", "/api/v1/zones/{name}", http.HandlerFunc(s.showZone))
	adm("DELETE /api/v1/zones/{name}", "/api/v1/zones/{name}", http.HandlerFunc(s.deleteZone))
	adm("POST /api/v1/zones/{name}/resync", "/api/v1/zones/{name}/resync", http.HandlerFunc(s.resyncZone))
	adm("POST /api/v1/resync", "/api/v1/resync", http.HandlerFunc(s.resyncAll))
	adm("POST /api/v1/import", "/api/v1/import", http.HandlerFunc(s.importZones))
	if s.opt.UI != nil {
		adm("/ui/", "/ui", s.opt.UI)
	}
	return s.recoverPanics(mux)
}

// recoverPanics turns a panic into a plain 500: no stack trace reaches the
// client; the log keeps the cause.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("request handler panicked", "path", r.URL.Path, "panic", v)
				fail(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
