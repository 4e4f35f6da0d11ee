package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
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
func (s *Server) requireAuth(a authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.check(r) {
			s.log.Warn("authentication failed", "client", s.clientIP(r), "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Basic realm="dadns", charset="UTF-8"`)
			fail(w, http.StatusUnauthorized, "authentication required")
			return
		}
		next.ServeHTTP(w, r)
	})
}
