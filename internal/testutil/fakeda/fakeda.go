// Package fakeda is a fake DirectAdmin server for tests, answering the
// calls dadns makes when it reconciles (directadmin-protocol.md, "Calls we
// make to DA"): the login test, the paged CMD_DNS_ADMIN JSON listing,
// CMD_API_DOMAIN_OWNERS, the raw zone text, the Extra DNS server list and
// the CMD_LOGIN session fallback. Beside the HTTP API it runs the DA box's
// DNS server: a real DNS responder (UDP and TCP) on 127.0.0.1, answering
// SOA questions for every zone the fake holds with the serial of its text,
// as named on a DA server does. Faults make it misbehave the ways a real
// server can. DirectAdmin is commercial; this fake exists only for that.
package fakeda

import (
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// Fault is a way the server misbehaves.
type Fault int

// The faults.
const (
	None          Fault = iota
	HTML                // every GET answers 200 with an HTML page
	FailPage2           // listing pages after the first answer HTTP 500
	RedirectLoop        // every GET redirects to the login page, even after logging in
	OtherRedirect       // every GET redirects somewhere other than the login page
	Hang                // every GET blocks until the client gives up
	NoInfo              // listing pages lack info.total_pages
	OwnersError         // CMD_API_DOMAIN_OWNERS answers error=1
)

// Options configure Start.
type Options struct {
	Username, Password string // default admin / secret
	TLS                bool   // serve HTTPS with a test certificate
	// StringNumbers encodes info.total_pages as a string ("2"), as some DA
	// versions do.
	StringNumbers bool
}

// Server is a running fake DirectAdmin.
type Server struct {
	URL  string // base URL
	Host string // 127.0.0.1
	Port int

	opt Options
	srv *httptest.Server

	mu          sync.Mutex
	zones       map[string]string // every zone in DA's DNS → text
	owners      map[string]string // local domains → DA user
	fault       Fault
	session     bool   // Basic auth on non-API pages redirects to the login page
	cookie      string // issued session value
	requests    []string
	zoneFetches int
	fetches     map[string]int    // zone → texts served
	serials     map[string]uint32 // zone → SOA serial of its text
	sorted      []string          // the zones' names in order (the listed ones); nil after a change
	unlisted    map[string]bool   // held (text served) but left out of the listing

	dns        *dnsServer
	dnsFaults  map[string]DNSFault
	dnsSerials map[string]uint32 // DNS answers these instead of the text's
	udpQueries int
	tcpQueries int
}

// Start runs a fake DA on 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	if opt.Username == "" {
		opt.Username, opt.Password = "admin", "secret"
	}
	s := &Server{opt: opt, zones: map[string]string{}, owners: map[string]string{},
		fetches: map[string]int{}, serials: map[string]uint32{}, unlisted: map[string]bool{},
		dnsFaults: map[string]DNSFault{}, dnsSerials: map[string]uint32{}}
	s.startDNS(t)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if opt.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.Close)
	s.URL = s.srv.URL
	host, port, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	return s
}

// Close stops the server, HTTP and DNS: later calls find nothing listening.
func (s *Server) Close() {
	s.srv.Close()
	s.dns.close()
}

// CloseHTTP stops the HTTP API only: the DA panel is down while its DNS
// server still answers.
func (s *Server) CloseHTTP() { s.srv.Close() }

// CertPool returns a pool trusting the server's test certificate (TLS).
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if c := s.srv.Certificate(); c != nil {
		pool.AddCert(c)
	}
	return pool
}

// AddLocal puts a domain of DA user user on the server: in its DNS
// listing and in its domain owners.
func (s *Server) AddLocal(name, user, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(name, text)
	s.owners[name] = user
}

// put stores a zone's text; s.mu is held.
func (s *Server) put(name, text string) {
	if _, ok := s.zones[name]; !ok {
		s.sorted = nil
	}
	s.zones[name] = text
	if serial, ok := textSerial(name, text); ok {
		s.serials[name] = serial
	} else {
		delete(s.serials, name)
	}
}

// AddForeign puts a zone another DA server pushed into this one's DNS: in
// the listing, not in the domain owners.
func (s *Server) AddForeign(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(name, text)
	delete(s.owners, name)
}

// Remove deletes a zone as DA does when a domain is removed.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.zones, name)
	delete(s.owners, name)
	delete(s.serials, name)
	delete(s.unlisted, name)
	s.sorted = nil
}

// Unlist leaves a zone out of the listing and the domain owners while its
// text is still served, as lists read while zones come and go can miss one.
func (s *Server) Unlist(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unlisted[name] = true
	s.sorted = nil
}

// SetFault makes the server misbehave (None restores it).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// RequireSession makes Basic-auth requests to non-CMD_API_ pages redirect
// to the login page, as DA Evolution installs do.
func (s *Server) RequireSession(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.session = on
}

// Requests returns the method and path of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// ZoneFetches counts the raw zone texts served.
func (s *Server) ZoneFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.zoneFetches
}
