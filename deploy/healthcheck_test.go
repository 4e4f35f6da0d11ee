package deploy_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestHealthcheckScript runs the image's health check against servers
// that answer /healthz in each way it must tell apart.
func TestHealthcheckScript(t *testing.T) {
	requireTool(t, "bash")
	for _, tc := range []struct {
		name    string
		server  *httptest.Server
		healthy bool
	}{
		{"200", httptest.NewServer(healthz(http.StatusOK)), true},
		{"500", httptest.NewServer(healthz(http.StatusInternalServerError)), false},
		{"503", httptest.NewServer(healthz(http.StatusServiceUnavailable)), false},
		{"401 without healthz_public", httptest.NewServer(healthz(http.StatusUnauthorized)), false},
		{"TLS listener", httptest.NewTLSServer(healthz(http.StatusOK)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.server.Close()
			_, port, _ := net.SplitHostPort(tc.server.Listener.Addr().String())
			p, _ := strconv.Atoi(port)
			err := runHealthcheck(t, p)
			if tc.healthy && err != nil {
				t.Errorf("health check failed: %v", err)
			}
			if !tc.healthy && err == nil {
				t.Error("health check passed")
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		if err := runHealthcheck(t, freePort(t)); err == nil {
			t.Error("health check passed with nothing listening")
		}
	})
}

// healthz answers GET /healthz with code and everything else with 404.
func healthz(code int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
	return mux
}
