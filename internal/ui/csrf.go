package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// Forms that change state carry a token: an HMAC, under a key made at
// start, of the credentials the browser presents. Another site cannot
// read it (same-origin policy), so it cannot forge the form; the token
// changes when the credentials or the process do. Cross-site requests are
// also refused outright from their Sec-Fetch-Site and Origin headers.

const csrfField = "csrf"

func newKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("ui: no randomness for the form key: " + err.Error())
	}
	return k
}

// token is the form token for the credentials r presents.
func (s *Server) token(r *http.Request) string {
	user, pass, _ := r.BasicAuth()
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("dadns ui form\x00"))
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(pass))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validToken compares the posted token with the expected one in constant time.
func (s *Server) validToken(r *http.Request) bool {
	got := r.PostFormValue(csrfField)
	want := s.token(r)
	return hmac.Equal([]byte(got), []byte(want))
}

// post guards a state-changing handler: same-origin only, a bounded form,
// and the right token; anything else is refused with 403 and changes
// nothing.
func (s *Server) post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.crossSite.Check(r); err != nil {
			s.log.Warn("ui: cross-site form refused", "path", r.URL.Path)
			s.fail(w, r, http.StatusForbidden, "Cross-site request refused.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, http.StatusBadRequest, "The form could not be read.")
			return
		}
		if !s.validToken(r) {
			s.log.Warn("ui: form without a valid token refused", "path", r.URL.Path)
			s.fail(w, r, http.StatusForbidden, "The form's security token is missing or stale: reload the page and try again.")
			return
		}
		h(w, r)
	}
}
