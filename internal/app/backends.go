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
	config.TypeNSD:          newNSD,
	config.TypeKnot:         newKnot,
	config.TypePowerDNS:     newPowerDNS,
}

type backendSet struct {
	byName map[string]backend.Backend
}

// buildBackends constructs the enabled backend instances want accepts
// (every one when want is nil), in configuration order.
func buildBackends(ctx context.Context, cfg *config.Config, log *slog.Logger, want func(config.Backend) bool) (*backendSet, error) {
	set := &backendSet{byName: map[string]backend.Backend{}}
	for _, bc := range cfg.EnabledBackends() {
		if want != nil && !want(bc) {
			continue
		}
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

// newBuiltin binds the DNS port at once (a port in use fails the start)
// but answers only once the stored zones are loaded (see loadBuiltins).
func newBuiltin(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	opt := dnsserver.Options{Logger: log, Transfers: transferOptions(bc.Builtin.Transfers, log), RRL: rrlOptions(bc.Builtin.RRL), Cookies: cookieOptions(bc.Builtin), MinimalANY: bc.Builtin.MinimalANY, CacheEntries: bc.Builtin.CacheEntries,
		NoAddressSockets: !bc.Builtin.AddressSockets}
	builtinTelemetry(&opt, bc.Builtin)
	srv := dnsserver.New(opt)
	k, err := srv.Bind(bc.Builtin.Listen)
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("builtin dns listen %s: %w", bc.Builtin.Listen, err)
	}
	log.Info("builtin DNS server bound; answering once the stored zones are loaded", "udp", k.UDPAddr().String(), "tcp", k.TCPAddr().String())
	return builtin.NewHeld(srv, k), nil
}

// registerMetrics exposes what backends count themselves: the builtin
// servers' answers by rcode. One collector serves every builtin instance
// (labelled by backend): a registry accepts each metric description once,
// so a collector per instance would clash as soon as two are configured.
func (s *backendSet) registerMetrics(reg prometheus.Registerer) {
	c := &answersCollector{}
	for name, b := range s.byName {
		if bb, ok := b.(*builtin.Backend); ok {
			c.servers = append(c.servers, namedServer{backend: name, srv: bb.Server()})
		}
	}
	if len(c.servers) > 0 {
		reg.MustRegister(c)
		registerInternet(reg, c.servers)
	}
}

// answersCollector turns the dnsserver answer counts of every builtin
// instance into one counter family.
type answersCollector struct {
	servers []namedServer
}

type namedServer struct {
	backend string
	srv     *dnsserver.Server
}

var answersDesc = prometheus.NewDesc("dadns_dns_answers_total",
	"DNS answers sent by the builtin server, by rcode.", []string{"backend", "rcode"}, nil)

func (c *answersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- answersDesc }

func (c *answersCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.servers {
		for rcode, n := range s.srv.Answers() {
			ch <- prometheus.MustNewConstMetric(answersDesc, prometheus.CounterValue, float64(n), s.backend, rcode)
		}
	}
}
