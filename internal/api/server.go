// Package api serves the HTTP endpoints DirectAdmin talks to.
package api

import (
	"log/slog"
	"net/http"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
)

// Options configure a Server.
type Options struct {
	Store       *store.Store
	Push        *push.Service
	Credentials Credentials
	// MaxBodyBytes bounds a request body (HTTP 413 past it).
	MaxBodyBytes int64
	// SubdomainOwnerCheck answers exists=3 (owner of the ancestor) rather
	// than exists=2, as app.check_subdomain_owner_in_cluster_domainowners.
	SubdomainOwnerCheck bool
	Logger              *slog.Logger
}

// Server answers DirectAdmin's Multi Server requests.
type Server struct {
	opt  Options
	auth authenticator
	push *push.Service
	log  *slog.Logger
}

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
	return &Server{opt: opt, auth: newAuthenticator(opt.Credentials), push: opt.Push, log: opt.Logger}
}

// Handler returns the HTTP handler with every route, authenticated.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/CMD_API_LOGIN_TEST", s.loginTest)
	mux.HandleFunc("/CMD_API_DNS_ADMIN", s.dnsAdmin)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "unknown command")
	})
	return s.recoverPanics(s.requireAuth(mux))
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
