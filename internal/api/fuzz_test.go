package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// FuzzDARequest feeds arbitrary query strings and bodies to the request
// parser and the delete-name collection: no panic, limits honoured, and
// every name accepted is a valid zone name.
func FuzzDARequest(f *testing.F) {
	f.Add("action=rawsave&domain=example.com&hostname=da1", "$TTL 60\n@ IN SOA a. b. 1 2 3 4 5\n", "POST")
	f.Add("", "action=delete&cluster=yes&hostname=da1&select0=test.com&select1=b.example", "POST")
	f.Add("action=exists&domain=a.b.c&check_for_parent_domain=true", "", "GET")
	f.Add("domain=..%2Fetc&action=delete", "select00=a&select-1=b&select99999999999999999999=c", "POST")
	f.Fuzz(func(t *testing.T, query, body, method string) {
		if method != "GET" && method != "POST" {
			method = "POST"
		}
		r := httptest.NewRequest(method, "/CMD_API_DNS_ADMIN", strings.NewReader(body))
		r.URL.RawQuery = query
		w := httptest.NewRecorder()
		p, err := readParams(w, r, 1024)
		if err != nil {
			return
		}
		if len(p.body) > 1024 {
			t.Fatalf("body of %d bytes read past the limit", len(p.body))
		}
		if p.Values == nil {
			p.Values = url.Values{}
		}
		names, err := deleteNames(p)
		if err != nil {
			return
		}
		for _, n := range names {
			if again, err := zone.ParseName(string(n)); err != nil || again != n {
				t.Fatalf("accepted name %q does not re-validate: %v", n, err)
			}
		}
		_ = flag(p.Values, "check_for_parent_domain")
	})
}

// TestFuzzSeedsRunThroughHandler sends the fuzz seeds through the whole
// handler too: every reply is DA-shaped.
func TestFuzzSeedsRunThroughHandler(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct{ q, body string }{
		{"domain=..%2Fetc&action=delete", "select00=a&select-1=b"},
		{"action=%zz", ""},
		{"", "action=delete&select0=%00"},
	} {
		code, v := h.do(http.MethodPost, "/CMD_API_DNS_ADMIN?"+c.q, c.body)
		if v.Get("error") == "" || code == 500 {
			t.Errorf("%q %q: HTTP %d %v", c.q, c.body, code, v)
		}
	}
}
