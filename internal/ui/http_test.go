package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// version reads a zone's version from the admin API.
func (n *node) version(name string) int64 {
	n.t.Helper()
	resp, body := n.admin("GET", "/api/v1/zones/"+name, nil, nil)
	if resp.StatusCode != 200 {
		return 0
	}
	var d struct{ Version int64 }
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		n.t.Fatal(err)
	}
	return d.Version
}

// TestFormsRefusedWithoutToken posts the resync form without its token,
// with a wrong one, with the token of other credentials, and cross-site
// with the right one: each is refused and changes nothing; the same form
// with the page's token works.
func TestFormsRefusedWithoutToken(t *testing.T) {
	n := startNode(t, adminKeys)
	n.push("forms.example", zoneText("forms.example", 1, "x"), "da1.example.net")
	resp, page := n.admin("GET", "/ui/zones/forms.example", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("zone page: %d", resp.StatusCode)
	}
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("zone page has no form token")
	}
	token := m[1]
	before := n.version("forms.example")
	cases := []struct {
		name   string
		form   url.Values
		header http.Header
	}{
		{"no token", url.Values{}, nil},
		{"empty token", url.Values{"csrf": {""}}, nil},
		{"wrong token", url.Values{"csrf": {strings.Repeat("A", len(token))}}, nil},
		{"cross-site", url.Values{"csrf": {token}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"foreign origin", url.Values{"csrf": {token}}, http.Header{"Origin": {"https://evil.example"}}},
	}
	for _, c := range cases {
		resp, body := n.admin("POST", "/ui/zones/forms.example/resync", c.form, c.header)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", c.name, resp.StatusCode)
		}
		if c.name == "no token" && !strings.Contains(body, "security token") {
			t.Errorf("%s: refusal does not say why: %s", c.name, body)
		}
	}
	for _, path := range []string{"/ui/zones/forms.example/delete", "/ui/failures/retry", "/ui/zones/forms.example/retry"} {
		if resp, _ := n.admin("POST", path, url.Values{"confirm": {"forms.example"}}, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without token: %d, want 403", path, resp.StatusCode)
		}
	}
	if v := n.version("forms.example"); v != before {
		t.Fatalf("a refused form changed the zone: version %d → %d", before, v)
	}
	resp, _ = n.admin("POST", "/ui/zones/forms.example/resync", url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form with its token: %d, want 303", resp.StatusCode)
	}
	if v := n.version("forms.example"); v != before+1 {
		t.Fatalf("resync with the token: version %d, want %d", v, before+1)
	}
}

// TestPagesGuardedAndHeaders: the pages need the admin credentials (not
// DirectAdmin's), carry the security headers, and share the API's limit
// on failed logins.
func TestPagesGuardedAndHeaders(t *testing.T) {
	n := startNode(t, adminKeys)
	for _, p := range []string{"/ui/", "/ui/zones", "/ui/reconcile", "/ui/failures", "/ui/static/ui.css"} {
		if resp, _ := n.do("GET", p, "", "", nil, nil); resp.StatusCode != 401 {
			t.Errorf("GET %s without credentials: %d", p, resp.StatusCode)
		}
		if resp, _ := n.do("GET", p, daUser, daPass, nil, nil); resp.StatusCode != 401 {
			t.Errorf("GET %s with DirectAdmin's credentials: %d", p, resp.StatusCode)
		}
		resp, _ := n.admin("GET", p, nil, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", p, resp.Header)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("GET %s sets a cookie", p)
		}
	}
	if resp, _ := n.admin("GET", "/ui/zones?sort=evil", nil, nil); resp.StatusCode != 400 {
		t.Errorf("unknown sort: %d", resp.StatusCode)
	}
	if resp, _ := n.admin("GET", "/ui/zones/absent.example", nil, nil); resp.StatusCode != 404 {
		t.Errorf("absent zone: %d", resp.StatusCode)
	}
	if resp, _ := n.admin("GET", "/ui/zones/bad..name", nil, nil); resp.StatusCode != 400 {
		t.Errorf("bad zone name: %d", resp.StatusCode)
	}
	// Failed logins on the pages count with the API's: the API is then
	// refused too.
	for range 20 {
		n.do("GET", "/ui/", adminUser, "wrong", nil, nil)
	}
	if resp, _ := n.admin("GET", "/api/v1/zones", nil, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("API after 20 failed UI logins: %d, want 429", resp.StatusCode)
	}
	if resp, _ := n.admin("GET", "/ui/", nil, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("UI after 20 failed UI logins: %d, want 429", resp.StatusCode)
	}
}

// TestUIOff: without admin credentials of its own, or with
// app.ui_enabled: false, no page is served.
func TestUIOff(t *testing.T) {
	n := startNode(t, "")
	resp, body := n.do("GET", "/ui/", daUser, daPass, nil, nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "app.admin_username") {
		t.Errorf("no admin credentials: %d %q", resp.StatusCode, body)
	}
	off := startNode(t, adminKeys+"  ui_enabled: false\n")
	resp, body = off.admin("GET", "/ui/", nil, nil)
	if resp.StatusCode == 200 || strings.Contains(body, "<html") {
		t.Errorf("ui_enabled false: %d %q", resp.StatusCode, body)
	}
	if resp, _ := off.admin("GET", "/status", nil, nil); resp.StatusCode != 200 {
		t.Errorf("status with the UI off: %d", resp.StatusCode)
	}
}
