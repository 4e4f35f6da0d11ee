package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
)

const (
	testUser = "da"
	testPass = "s3cret-pass"
)

// harness is a running API server on a real store.
type harness struct {
	t       testing.TB
	srv     *httptest.Server
	st      store.Store
	changed int
}

func newHarness(t testing.TB, mod func(*Options, *push.Options)) *harness {
	t.Helper()
	return newHarnessOn(t, sqlite.Options{}, mod)
}

// newHarnessOn is newHarness with the store opened with sopt.
func newHarnessOn(t testing.TB, sopt sqlite.Options, mod func(*Options, *push.Options)) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), sopt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, st: st}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opt := Options{
		Store:               st,
		Credentials:         Credentials{Username: testUser, Password: testPass},
		SubdomainOwnerCheck: true,
		Logger:              log,
	}
	popt := push.Options{Store: st, Changed: func() { h.changed++ }, Logger: log}
	if mod != nil {
		mod(&opt, &popt)
	}
	opt.Push = push.New(popt)
	h.srv = httptest.NewServer(New(opt).Handler())
	t.Cleanup(h.srv.Close)
	return h
}

// do sends a request with the test credentials and returns status and the
// decoded reply.
func (h *harness) do(method, target string, body string) (int, url.Values) {
	h.t.Helper()
	return h.doAuth(method, target, body, testUser, testPass)
}

func (h *harness) doAuth(method, target, body, user, pass string) (int, url.Values) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+target, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Del("User-Agent")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		h.t.Errorf("%s %s: Content-Type %q, want text/plain", method, target, ct)
	}
	vals, err := url.ParseQuery(string(raw))
	if err != nil {
		h.t.Fatalf("%s %s: reply %q is not URL-encoded: %v", method, target, raw, err)
	}
	return resp.StatusCode, vals
}

// push sends a rawsave and fails the test unless it is accepted.
func (h *harness) push(domain, host, user, text string) {
	h.t.Helper()
	q := url.Values{"action": {"rawsave"}, "domain": {domain}, "hostname": {host}}
	if user != "" {
		q.Set("username", user)
	}
	code, v := h.do("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), text)
	if code != 200 || v.Get("error") != "0" {
		h.t.Fatalf("push %s: HTTP %d %v", domain, code, v)
	}
}

func (h *harness) get(name string) (store.Zone, bool) {
	h.t.Helper()
	z, err := h.st.Get(context.Background(), name)
	if errors.Is(err, store.ErrNotFound) {
		return z, false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return z, true
}

// sample reads a sample zone (a copy of the project's shared/zones).
func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "zones", name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// minimalZone is a valid zone for origin with the given serial.
func minimalZone(origin string, serial int) string {
	return "$TTL 3600\n@ IN SOA ns1." + origin + ". hostmaster." + origin + ". " +
		strconv.Itoa(serial) + " 3600 3600 1209600 86400\n@ IN NS ns1." + origin + ".\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.2\n"
}
