package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
)

const (
	adminUser = "ops"
	adminPass = "ops-secret"
)

// opsHarness has admin credentials, a registry and settable worker states.
func opsHarness(t *testing.T, workers *[]dispatch.Status, mod func(*Options)) *harness {
	return newHarness(t, func(o *Options, _ *push.Options) {
		o.Admin = Credentials{Username: adminUser, Password: adminPass}
		o.Registry = prometheus.NewRegistry()
		o.Workers = func() []dispatch.Status { return *workers }
		o.Reconciler = func() any { return map[string]any{"last_run": "never"} }
		o.Version = "test"
		if mod != nil {
			mod(o)
		}
	})
}

// getJSON fetches path with the given credentials and decodes the body.
func (h *harness) getJSON(method, path, user, pass string, v any) int {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, v); err != nil {
			h.t.Fatalf("%s: %v in %s", path, err, body)
		}
	}
	return resp.StatusCode
}

func TestOpsAuth(t *testing.T) {
	ws := []dispatch.Status{{Backend: "builtin", Alive: true}}
	h := opsHarness(t, &ws, nil)
	for _, path := range []string{"/healthz", "/readyz", "/status", "/metrics", "/api/v1/zones"} {
		if code := h.getJSON("GET", path, "", "", nil); code != 401 {
			t.Errorf("%s without auth: %d", path, code)
		}
		if code := h.getJSON("GET", path, testUser, testPass, nil); code != 401 {
			t.Errorf("%s with the DirectAdmin credentials: %d", path, code)
		}
		if code := h.getJSON("GET", path, adminUser, adminPass, nil); code != 200 {
			t.Errorf("%s with admin credentials: %d", path, code)
		}
	}
	if code, _ := h.doAuth("GET", "/CMD_API_LOGIN_TEST", "", adminUser, adminPass); code != 401 {
		t.Errorf("admin credentials opened the DirectAdmin API: %d", code)
	}
	pub := opsHarness(t, &ws, func(o *Options) { o.HealthzPublic = true })
	if code := pub.getJSON("GET", "/healthz", "", "", nil); code != 200 {
		t.Errorf("public healthz: %d", code)
	}
	if code := pub.getJSON("GET", "/status", "", "", nil); code != 401 {
		t.Errorf("status without auth when healthz is public: %d", code)
	}
}

func TestStatusShapeAndStates(t *testing.T) {
	ws := []dispatch.Status{{Backend: "builtin", Alive: true}, {Backend: "bind", Alive: true}}
	h := opsHarness(t, &ws, nil)
	h.push("a.example", hostA, "u", minimalZone("a.example", 1))
	h.push("b.example", hostA, "u", minimalZone("b.example", 1))
	var doc map[string]any
	h.getJSON("GET", "/status", adminUser, adminPass, &doc)
	for _, key := range []string{"status", "queues", "workers", "reconciler", "peer_sync", "zones", "backends"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("status lacks %q: %v", key, doc)
		}
	}
	if doc["status"] != "ok" || doc["zones"].(map[string]any)["total"] != 2.0 {
		t.Fatalf("status %v", doc)
	}
	if q := doc["queues"].(map[string]any); q["save"] != 4.0 { // 2 zones × 2 backends pending
		t.Errorf("queues %v", q)
	}
	// A failing zone on one backend: degraded, with the error shown.
	if _, _, err := h.st.Due(t.Context(), "bind", 10); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Failed(t.Context(), "bind", []store.Failure{{Name: "a.example", Version: 1, Err: "rndc: connection refused", Next: time.Now().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	h.getJSON("GET", "/status", adminUser, adminPass, &doc)
	bind := doc["backends"].(map[string]any)["bind"].(map[string]any)
	if doc["status"] != "degraded" || bind["failing"] != 1.0 || !strings.Contains(bind["last_error"].(string), "rndc") {
		t.Fatalf("status %v", doc)
	}
	// A dead worker: error, and not ready.
	ws[1] = dispatch.Status{Backend: "bind", Died: "panic: boom"}
	h.getJSON("GET", "/status", adminUser, adminPass, &doc)
	if doc["status"] != "error" || doc["workers"].(map[string]any)["save"] != false {
		t.Fatalf("status %v", doc)
	}
	if code := h.getJSON("GET", "/readyz", adminUser, adminPass, nil); code != 503 {
		t.Fatalf("readyz with a dead worker: %d", code)
	}
}

func TestMetricsMoveAfterPush(t *testing.T) {
	ws := []dispatch.Status{}
	h := opsHarness(t, &ws, nil)
	h.push("m.example", hostA, "u", minimalZone("m.example", 1))
	h.do("POST", "/CMD_API_DNS_ADMIN?action=rawsave&domain=m.example&hostname=x", "garbage")
	req, _ := http.NewRequest("GET", h.srv.URL+"/metrics", nil)
	req.SetBasicAuth(adminUser, adminPass)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`dadns_pushes_total{action="rawsave",outcome="ok"} 1`,
		`dadns_pushes_total{action="rawsave",outcome="refused"} 1`,
		`dadns_http_requests_total{code="200",route="/CMD_API_DNS_ADMIN"} 1`,
		`dadns_http_request_duration_seconds_count{route="/CMD_API_DNS_ADMIN"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), "m.example") {
		t.Error("a zone name reached a metric label")
	}
}

func TestAdminZonesAPI(t *testing.T) {
	ws := []dispatch.Status{{Backend: "b1", Alive: true}}
	h := opsHarness(t, &ws, nil)
	h.push("a.example", hostA, "alice", minimalZone("a.example", 1))
	h.push("b.example", hostB, "bob", minimalZone("b.example", 1))
	var list []map[string]any
	if code := h.getJSON("GET", "/api/v1/zones", adminUser, adminPass, &list); code != 200 || len(list) != 2 {
		t.Fatalf("list: %d %v", code, list)
	}
	h.st.Due(t.Context(), "b1", 10)
	h.st.Failed(t.Context(), "b1", []store.Failure{{Name: "b.example", Version: 1, Err: "x", Permanent: true}})
	h.getJSON("GET", "/api/v1/zones?failing=1", adminUser, adminPass, &list)
	if len(list) != 1 || list[0]["name"] != "b.example" {
		t.Fatalf("failing list %v", list)
	}
	var detail map[string]any
	if code := h.getJSON("GET", "/api/v1/zones/A.EXAMPLE.", adminUser, adminPass, &detail); code != 200 ||
		detail["owner_user"] != "alice" || !strings.Contains(detail["canonical"].(string), "SOA") {
		t.Fatalf("show: %d %v", code, detail)
	}
	if code := h.getJSON("GET", "/api/v1/zones/..%2Fetc", adminUser, adminPass, nil); code != 400 {
		t.Fatalf("hostile name: %d", code)
	}
	if code := h.getJSON("GET", "/api/v1/zones/none.example", adminUser, adminPass, nil); code != 404 {
		t.Fatalf("absent zone: %d", code)
	}
	var res map[string]any
	h.getJSON("POST", "/api/v1/zones/b.example/resync", adminUser, adminPass, &res)
	if z, _ := h.get("b.example"); z.Version != 2 {
		t.Fatalf("resync: version %d", z.Version)
	}
	h.getJSON("POST", "/api/v1/resync", adminUser, adminPass, &res)
	if res["resynced"] != 2.0 {
		t.Fatalf("resync all: %v", res)
	}
	if code := h.getJSON("DELETE", "/api/v1/zones/a.example", adminUser, adminPass, nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if _, ok := h.get("a.example"); ok {
		t.Fatal("admin delete did not delete")
	}
}

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	s := New(Options{ProxySupport: true, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}})
	cases := []struct{ remote, xff, want string }{
		{"127.0.0.1:5000", "203.0.113.9", "203.0.113.9"},
		{"127.0.0.1:5000", "198.51.100.1, 203.0.113.9, 10.1.1.1", "203.0.113.9"},
		{"192.0.2.50:5000", "203.0.113.9", "192.0.2.50"}, // peer not trusted: header ignored
		{"127.0.0.1:5000", "not-an-ip", "127.0.0.1"},
		{"127.0.0.1:5000", "", "127.0.0.1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("%s via %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	off := New(Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := off.clientIP(r); got != "127.0.0.1" {
		t.Errorf("proxy_support off believed X-Forwarded-For: %s", got)
	}
}
