package fakeda

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

const loginPath = "/evo/login"

// serve authenticates, applies the fault, then routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	fault := s.fault
	s.mu.Unlock()
	if r.URL.Path == "/CMD_LOGIN" && r.Method == http.MethodPost {
		s.login(w, r)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	if s.faulted(w, r, fault) {
		return
	}
	s.route(w, r)
}

// authorized accepts the session cookie or Basic auth; with sessions
// required, Basic auth on a non-API page is redirected to the login page.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	cookie, session := s.cookie, s.session
	s.mu.Unlock()
	if c, err := r.Cookie("session"); err == nil && cookie != "" && c.Value == cookie {
		return true
	}
	u, p, ok := r.BasicAuth()
	if !ok || !s.credentials(u, p) {
		w.Header().Set("WWW-Authenticate", `Basic realm="DirectAdmin"`)
		http.Error(w, "error=1&text=Unauthorized", http.StatusUnauthorized)
		return false
	}
	if session && !strings.HasPrefix(r.URL.Path, "/CMD_API_") {
		http.Redirect(w, r, loginPath+"?redirect="+r.URL.Path, http.StatusFound)
		return false
	}
	return true
}

func (s *Server) credentials(u, p string) bool {
	return subtle.ConstantTimeCompare([]byte(u), []byte(s.opt.Username)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(s.opt.Password)) == 1
}

// login answers CMD_LOGIN: a session cookie for the right credentials.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !s.credentials(r.PostForm.Get("username"), r.PostForm.Get("password")) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Invalid login</body></html>"))
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	v := hex.EncodeToString(b)
	s.mu.Lock()
	s.cookie = v
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "session", Value: v, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/", http.StatusFound)
}

// faulted answers the request the faulty way, if a fault applies.
func (s *Server) faulted(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f {
	case HTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!DOCTYPE html><html><body>DirectAdmin login</body></html>"))
	case RedirectLoop:
		http.Redirect(w, r, loginPath, http.StatusFound)
	case OtherRedirect:
		http.Redirect(w, r, "/CMD_SHOW_SOMETHING_ELSE", http.StatusFound)
	case Hang:
		<-r.Context().Done()
	case FailPage2:
		if r.URL.Path != "/CMD_DNS_ADMIN" || r.URL.Query().Get("page") == "1" {
			return false
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
	case OwnersError:
		if r.URL.Path != "/CMD_API_DOMAIN_OWNERS" {
			return false
		}
		plain(w, "error=1&text=Cannot%20read%20domainowners")
	default:
		return false
	}
	return true
}

// route answers the protocol's calls.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/CMD_API_LOGIN_TEST":
		plain(w, "error=0&text=Login%20OK")
	case "/CMD_DNS_ADMIN":
		s.listing(w, r)
	case "/CMD_API_DOMAIN_OWNERS":
		s.domainOwners(w)
	case "/CMD_API_DNS_ADMIN":
		s.zoneText(w, r)
	case "/CMD_MULTI_SERVER":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"servers":{}}`))
	default:
		http.Error(w, "error=1&text=Unknown%20command", http.StatusNotFound)
	}
}

func plain(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(body))
}
