package app

import (
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dadns/dadns/internal/backend/builtin"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dnsserver"
)

// builtinTelemetry sets the builtin's TCP bounds, per-zone counts and
// dnstap output on opt.
func builtinTelemetry(opt *dnsserver.Options, b config.BuiltinConfig) {
	t := b.TCP
	opt.TCPMaxConns, opt.TCPMaxConnsPerPrefix = t.MaxConnections, t.MaxConnectionsPerPrefix
	opt.TCPReadTimeout, opt.TCPIdleTimeout = config.Millis(t.ReadTimeoutMS), config.Millis(t.IdleTimeoutMS)
	opt.TCPBusyIdleTimeout, opt.TCPWriteTimeout = config.Millis(t.BusyIdleTimeoutMS), config.Millis(t.WriteTimeoutMS)
	opt.TCPMaxQueries = t.MaxQueriesPerConnection
	opt.ZoneCounts = b.ZoneCounts
	if d := b.Dnstap; d.Enabled() {
		id := d.Identity
		if id == "" {
			id, _ = os.Hostname()
		}
		opt.Dnstap = &dnsserver.DnstapOptions{Socket: d.Socket, File: d.File, Queries: d.Queries, Responses: d.Responses,
			Identity: id, Version: "dadns " + Version, Buffer: d.Buffer,
			Reconnect: time.Duration(d.ReconnectSeconds) * time.Second, WriteTimeout: time.Duration(d.TimeoutSeconds) * time.Second}
	}
}

// registerTelemetry exposes the dnstap counters (labelled by backend
// only) and returns the per-zone counts view for /status and the admin
// API (nil when no builtin instance counts).
func (s *backendSet) registerTelemetry(reg prometheus.Registerer) func(top int) any {
	tc := &dnstapCollector{}
	counted := map[string]*dnsserver.Server{}
	for name, b := range s.byName {
		bb, ok := b.(*builtin.Backend)
		if !ok {
			continue
		}
		if _, ok := bb.Server().DnstapStats(); ok {
			tc.servers = append(tc.servers, namedServer{backend: name, srv: bb.Server()})
		}
		if _, ok := bb.Server().ZoneTraffic(1); ok {
			counted[name] = bb.Server()
		}
	}
	if len(tc.servers) > 0 {
		reg.MustRegister(tc)
	}
	if len(counted) == 0 {
		return nil
	}
	return func(top int) any {
		out := map[string]dnsserver.ZoneTraffic{}
		for name, srv := range counted {
			out[name], _ = srv.ZoneTraffic(top)
		}
		return out
	}
}

var (
	dnstapSentDesc = prometheus.NewDesc("dadns_dns_dnstap_messages_total",
		"dnstap messages (AUTH_QUERY, AUTH_RESPONSE) written to the collector or file.", []string{"backend"}, nil)
	dnstapDroppedDesc = prometheus.NewDesc("dadns_dns_dnstap_dropped_total",
		"Answered queries not written to dnstap: the queue was full or the collector absent, slow or failing (answers never wait for it).",
		[]string{"backend"}, nil)
	dnstapConnectedDesc = prometheus.NewDesc("dadns_dns_dnstap_connected",
		"1 while the dnstap output is connected (socket) or open (file).", []string{"backend"}, nil)
)

type dnstapCollector struct {
	servers []namedServer
}

func (c *dnstapCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dnstapSentDesc
	ch <- dnstapDroppedDesc
	ch <- dnstapConnectedDesc
}

func (c *dnstapCollector) Collect(ch chan<- prometheus.Metric) {
	for _, ns := range c.servers {
		st, ok := ns.srv.DnstapStats()
		if !ok {
			continue
		}
		conn := 0.0
		if st.Connected {
			conn = 1
		}
		ch <- prometheus.MustNewConstMetric(dnstapSentDesc, prometheus.CounterValue, float64(st.Sent), ns.backend)
		ch <- prometheus.MustNewConstMetric(dnstapDroppedDesc, prometheus.CounterValue, float64(st.Dropped), ns.backend)
		ch <- prometheus.MustNewConstMetric(dnstapConnectedDesc, prometheus.GaugeValue, conn, ns.backend)
	}
}
