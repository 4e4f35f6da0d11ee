package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/builtin"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dnsserver"
)

// constructors is the explicit factory: backend type → constructor. A type
// the config accepts but that is missing here fails at start with a clear
// error rather than being silently ignored.
var constructors = map[string]func(ctx context.Context, b config.Backend, log *slog.Logger) (backend.Backend, error){
	config.TypeBuiltin:      newBuiltin,
	config.TypeBind:         newBind,
	config.TypeCoreDNSMySQL: newCoreDNSMySQL,
}

type backendSet struct {
	byName map[string]backend.Backend
}

// buildBackends constructs every enabled backend instance.
func buildBackends(ctx context.Context, cfg *config.Config, log *slog.Logger) (*backendSet, error) {
	set := &backendSet{byName: map[string]backend.Backend{}}
	for _, bc := range cfg.EnabledBackends() {
		mk, ok := constructors[bc.Type]
		if !ok {
			set.close()
			return nil, fmt.Errorf("dns.backends.%s: backend type %q is not available in this version of dadns", bc.Name, bc.Type)
		}
		if bc.Type == config.TypeBuiltin {
			bc.Builtin.Transfers = &cfg.Transfers
		}
		b, err := mk(ctx, bc, log.With("backend", bc.Name))
		if err != nil {
			set.close()
			return nil, fmt.Errorf("dns.backends.%s: %w", bc.Name, err)
		}
		set.byName[bc.Name] = b
	}
	if len(set.byName) == 0 {
		log.Warn("no DNS backend enabled: zones are stored but served nowhere")
	}
	return set, nil
}

func (s *backendSet) close() {
	for name, b := range s.byName {
		if c, ok := b.(backend.Closer); ok {
			if err := c.Close(); err != nil {
				slog.Warn("backend close failed", "backend", name, "err", err)
			}
		}
	}
}

func newBuiltin(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	srv := dnsserver.New(dnsserver.Options{Logger: log, Transfers: transferOptions(bc.Builtin.Transfers, log)})
	udp, tcp, err := srv.Listen(ctx, bc.Builtin.Listen)
	if err != nil {
		return nil, fmt.Errorf("builtin dns listen %s: %w", bc.Builtin.Listen, err)
	}
	log.Info("builtin DNS server listening", "udp", udp.String(), "tcp", tcp.String())
	return builtin.New(srv), nil
}

// registerMetrics exposes what backends count themselves: the builtin
// server's answers by rcode.
func (s *backendSet) registerMetrics(reg *prometheus.Registry) {
	for name, b := range s.byName {
		bb, ok := b.(*builtin.Backend)
		if !ok {
			continue
		}
		reg.MustRegister(&answersCollector{backend: name, srv: bb.Server()})
	}
}

// answersCollector turns dnsserver's answer counts into a counter series.
type answersCollector struct {
	backend string
	srv     *dnsserver.Server
}

var answersDesc = prometheus.NewDesc("dadns_dns_answers_total",
	"DNS answers sent by the builtin server, by rcode.", []string{"backend", "rcode"}, nil)

func (c *answersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- answersDesc }

func (c *answersCollector) Collect(ch chan<- prometheus.Metric) {
	for rcode, n := range c.srv.Answers() {
		ch <- prometheus.MustNewConstMetric(answersDesc, prometheus.CounterValue, float64(n), c.backend, rcode)
	}
}
