package dispatch

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dadns/dadns/internal/backend"
)

// Metrics are the dispatcher's Prometheus series, labelled by backend
// instance only (never by zone).
type Metrics struct {
	applyDuration *prometheus.HistogramVec
	applied       *prometheus.CounterVec
	failures      *prometheus.CounterVec
	retries       *prometheus.CounterVec
	mismatches    *prometheus.CounterVec
	up            *prometheus.GaugeVec
}

// NewMetrics registers the dispatcher's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		applyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dadns_backend_apply_duration_seconds", Help: "Time to apply and verify one batch of zones.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"backend"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dadns_backend_zones_applied_total", Help: "Zone changes (saves and deletes) applied and verified.",
		}, []string{"backend"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dadns_backend_apply_failures_total", Help: "Zone changes that failed to apply or verify.",
		}, []string{"backend"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dadns_backend_retries_total", Help: "Applies of a zone version that had failed before.",
		}, []string{"backend"}),
		mismatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dadns_backend_verify_mismatches_total", Help: "Verifications that found the backend serving other data than applied.",
		}, []string{"backend"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dadns_backend_up", Help: "1 while the backend answers (or has no probe), 0 while it is down and nothing is applied.",
		}, []string{"backend"}),
	}
	reg.MustRegister(m.applyDuration, m.applied, m.failures, m.retries, m.mismatches, m.up)
	return m
}

// observe records one batch's outcome.
func (m *Metrics) observe(name string, took time.Duration, res result, retried int) {
	if m == nil {
		return
	}
	m.applyDuration.WithLabelValues(name).Observe(took.Seconds())
	m.applied.WithLabelValues(name).Add(float64(len(res.applied)))
	m.failures.WithLabelValues(name).Add(float64(len(res.failed)))
	m.retries.WithLabelValues(name).Add(float64(retried))
	m.mismatches.WithLabelValues(name).Add(float64(res.mismatches))
}

func isMismatch(err error) bool { return errors.Is(err, backend.ErrMismatch) }

// setUp records whether a backend answers.
func (m *Metrics) setUp(name string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(name).Set(v)
}
