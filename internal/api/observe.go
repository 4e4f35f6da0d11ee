package api

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus series; labels are bounded (route,
// code, action, outcome), never a zone name.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	pushes   *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dadns_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dadns_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 3, 10),
		}, []string{"route"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dadns_pushes_total", Help: "DirectAdmin requests by action and outcome.",
		}, []string{"action", "outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.pushes)
	return m
}

// knownActions bounds the action label.
var knownActions = map[string]bool{"exists": true, "rawsave": true, "delete": true, "": true}

// push counts one DirectAdmin request.
func (m *metrics) push(action, outcome string) {
	if m == nil {
		return
	}
	if !knownActions[action] {
		action = "unknown"
	}
	if action == "" {
		action = "probe"
	}
	m.pushes.WithLabelValues(action, outcome).Inc()
}

// recorder captures the status code for logs and metrics.
type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// observe logs one access line per request and feeds the HTTP metrics.
// The line holds the client, action and zone from the query string,
// outcome and duration; never a body, a password or zone text.
func (s *Server) observe(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		q := r.URL.Query()
		s.log.Info("http", "client", s.clientIP(r), "method", r.Method, "path", r.URL.Path,
			"action", q.Get("action"), "zone", q.Get("domain"), "status", rec.code,
			"ms", float64(took.Microseconds())/1000)
		if s.metrics != nil {
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
			s.metrics.latency.WithLabelValues(route).Observe(took.Seconds())
		}
	})
}

// clientIP is the peer address, or with proxy_support the last address in
// X-Forwarded-For that is not a trusted proxy, when the peer is trusted.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.opt.ProxySupport || !s.trusted(host) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if _, err := netip.ParseAddr(hop); err != nil {
			return host // a malformed chain is not believed
		}
		if !s.trusted(hop) {
			return hop
		}
		host = hop
	}
	return host
}

func (s *Server) trusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.opt.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
