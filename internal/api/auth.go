package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
)

// Credentials are the HTTP Basic credentials DirectAdmin must present.
type Credentials struct {
	Username string
	Password string
}

// authenticator compares credentials in constant time: both sides are
// hashed first so neither the length nor the content leaks through timing.
type authenticator struct {
	user, pass [sha256.Size]byte
}

func newAuthenticator(c Credentials) authenticator {
	return authenticator{user: sha256.Sum256([]byte(c.Username)), pass: sha256.Sum256([]byte(c.Password))}
}

func (a authenticator) check(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	uh, ph := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
	userOK := subtle.ConstantTimeCompare(uh[:], a.user[:])
	passOK := subtle.ConstantTimeCompare(ph[:], a.pass[:])
	return ok && userOK&passOK == 1
}

// requireAuth answers 401 with no detail unless the request carries the
// credentials a checks.
// Clients that keep failing are refused with 429 for a while (see
// failLimiter), and each refusal is logged. A request that carries no
// credentials, or the valid credentials of the other routes (DirectAdmin's
// on an admin route, the admin's on DirectAdmin's), is answered 401
// without counting as a failure.
func (s *Server) requireAuth(a authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := s.clientIP(r)
		if s.limiter.blocked(ip) {
			s.log.Warn("request refused: too many failed logins", "client", ip, "path", r.URL.Path)
			w.Header().Set("Retry-After", strconv.Itoa(int(s.limiter.window.Seconds())))
			fail(w, http.StatusTooManyRequests, "too many failed logins; try again later")
			return
		}
		if !a.check(r) {
			if r.Header.Get("Authorization") == "" || s.auth.check(r) || s.admin.check(r) {
				// No credentials, or valid ones for the other set of
				// routes, are no guess: a browser asks without them first
				// on a new path, and sends the admin credentials for its
				// /favicon.ico. Refused, not counted.
				w.Header().Set("WWW-Authenticate", `Basic realm="dadns", charset="UTF-8"`)
				fail(w, http.StatusUnauthorized, "authentication required")
				return
			}
			if s.limiter.fail(ip) {
				s.log.Warn("authentication failed; client now refused for a while", "client", ip, "path", r.URL.Path)
			} else {
				s.log.Warn("authentication failed", "client", ip, "path", r.URL.Path)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="dadns", charset="UTF-8"`)
			fail(w, http.StatusUnauthorized, "authentication required")
			return
		}
		next.ServeHTTP(w, r)
	})
}
