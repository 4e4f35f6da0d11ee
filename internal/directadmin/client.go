// Package directadmin is a client for the calls dadns makes to a DirectAdmin
// server when it reconciles: the login test, the paged DNS zone listing,
// the domain owners and the raw text of one zone. Every answer is checked
// strictly: anything unexpected (HTML, a redirect other than to the login
// page, a missing or inconsistent page, a timeout, a TLS error) is an
// error, so the caller treats that server as unknown, never as empty.
package directadmin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrUnexpected marks an answer that does not have the expected shape.
var ErrUnexpected = errors.New("unexpected answer")

// DefaultTimeout bounds one DA call.
const DefaultTimeout = 30 * time.Second

// maxBody bounds what is read from one answer (a page of 1000 zones or one
// large zone fits many times).
const maxBody = 64 << 20

// Options configure a Client.
type Options struct {
	Host      string // host name or IP of the DA server
	Port      int    // default 2222
	SSL       bool   // https
	VerifySSL bool   // check the server certificate
	Username  string
	Password  string
	// IPP is the number of zones per listing page (default 1000).
	IPP int
	// Timeout bounds each call (default 30 s).
	Timeout time.Duration
	// RootCAs, when set, replaces the system roots (tests).
	RootCAs *x509.CertPool
}

// Client calls one DirectAdmin server. It is safe for concurrent use.
type Client struct {
	opt  Options
	base string
	http *http.Client

	mu     sync.Mutex
	cookie []*http.Cookie // session after the cookie login fallback
	sent   map[string]int // requests sent, by path
}

// New returns a Client for the server in opt.
func New(opt Options) *Client {
	if opt.Port == 0 {
		opt.Port = 2222
	}
	if opt.IPP <= 0 {
		opt.IPP = 1000
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	scheme := "http"
	if opt.SSL {
		scheme = "https"
	}
	return &Client{
		opt:  opt,
		base: scheme + "://" + net.JoinHostPort(opt.Host, strconv.Itoa(opt.Port)),
		http: newHTTPClient(opt),
	}
}

// newHTTPClient never follows redirects: do decides what a redirect means.
func newHTTPClient(opt Options) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tc := &tls.Config{InsecureSkipVerify: !opt.VerifySSL} //nolint:gosec // the operator's verify_ssl
	if opt.RootCAs != nil {
		tc.RootCAs = opt.RootCAs
	}
	tr.TLSClientConfig = tc
	return &http.Client{
		Transport:     tr,
		Timeout:       opt.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// count records one request to path.
func (c *Client) count(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sent == nil {
		c.sent = map[string]int{}
	}
	c.sent[path]++
}

// Requests returns how many requests the client has sent, by path
// (/CMD_DNS_ADMIN pages, /CMD_API_DNS_ADMIN zone texts, ...), since New.
func (c *Client) Requests() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.sent))
	for p, n := range c.sent {
		out[p] = n
	}
	return out
}

// Host returns the server's host name as configured.
func (c *Client) Host() string { return c.opt.Host }

// get fetches path?query and returns the body of a 200 answer. A redirect
// to the login page triggers the cookie login once; any other redirect, a
// second redirect after logging in, another status or an HTML body is an
// error.
func (c *Client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	resp, body, err := c.send(ctx, path, q)
	if err != nil {
		return nil, err
	}
	if isRedirect(resp.StatusCode) {
		if !c.loginPage(resp) || c.session() != nil {
			return nil, fmt.Errorf("%w: redirect (HTTP %d) to %q", ErrUnexpected, resp.StatusCode, resp.Header.Get("Location"))
		}
		if err := c.login(ctx); err != nil {
			return nil, err
		}
		if resp, body, err = c.send(ctx, path, q); err != nil {
			return nil, err
		}
		if isRedirect(resp.StatusCode) {
			return nil, fmt.Errorf("%w: still redirected (HTTP %d) after the session login; does %q have admin access?", ErrUnexpected, resp.StatusCode, c.opt.Username)
		}
	}
	if err := checkAnswer(resp, body); err != nil {
		return nil, err
	}
	return body, nil
}

// send makes one GET with Basic auth, or the session cookie once there is one.
func (c *Client) send(ctx context.Context, path string, q url.Values) (*http.Response, []byte, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	c.count(path)
	if s := c.session(); s != nil {
		for _, ck := range s {
			req.AddCookie(ck)
		}
	} else {
		req.SetBasicAuth(c.opt.Username, c.opt.Password)
	}
	return c.roundTrip(req)
}

// roundTrip runs req and reads its whole (bounded) body.
func (c *Client) roundTrip(req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", req.URL.Path, err)
	}
	if len(body) > maxBody {
		return nil, nil, fmt.Errorf("%w: answer to %s over %d bytes", ErrUnexpected, req.URL.Path, maxBody)
	}
	return resp, body, nil
}

func isRedirect(code int) bool { return code >= 300 && code < 400 }

// checkAnswer refuses non-200 answers, HTML and DA's error=1 replies.
func checkAnswer(resp *http.Response, body []byte) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: HTTP %d for %s", ErrUnexpected, resp.StatusCode, resp.Request.URL.Path)
	}
	if looksHTML(resp.Header.Get("Content-Type"), body) {
		return fmt.Errorf("%w: HTML instead of an API answer for %s (check the credentials and admin access)", ErrUnexpected, resp.Request.URL.Path)
	}
	if msg, ok := daError(body); ok {
		return fmt.Errorf("%w: DirectAdmin error for %s: %s", ErrUnexpected, resp.Request.URL.Path, msg)
	}
	return nil
}

func looksHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "text/html") {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 512)])))
	return strings.HasPrefix(head, "<!doctype") || strings.HasPrefix(head, "<html")
}

// daError reports a URL-encoded DA reply carrying error=1 (or any error
// other than 0) and its text.
func daError(body []byte) (string, bool) {
	s := strings.TrimSpace(string(body))
	if !strings.HasPrefix(s, "error=") {
		return "", false
	}
	v, err := url.ParseQuery(s)
	if err != nil || v.Get("error") == "0" {
		return "", false
	}
	return strings.TrimSpace(v.Get("text") + " " + v.Get("details")), true
}
