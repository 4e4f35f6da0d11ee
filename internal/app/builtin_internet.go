package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dnsserver"
)

// rrlOptions turns the builtin's rrl section into the server's options
// (nil: RRL off).
func rrlOptions(c config.RRLConfig) *dnsserver.RRLOptions {
	if !c.Enabled {
		return nil
	}
	return &dnsserver.RRLOptions{
		ResponsesPerSecond: c.ResponsesPerSecond,
		Slip:               c.Slip,
		Window:             c.Window,
		IPv4Prefix:         c.IPv4Prefix,
		IPv6Prefix:         c.IPv6Prefix,
		Exempt:             c.ExemptPrefixes(),
		LogOnly:            c.LogOnly,
		TableSize:          c.TableSize,
	}
}

// cookieOptions turns the builtin's cookie keys into the server's options
// (nil: cookies off).
func cookieOptions(b config.BuiltinConfig) *dnsserver.CookieOptions {
	if !b.Cookies {
		return nil
	}
	var o dnsserver.CookieOptions
	o.Secret, _ = config.CookieSecretBytes(b.CookieSecret)
	if prev, ok := config.CookieSecretBytes(b.CookieSecretPrevious); ok {
		o.Previous = &prev
	}
	return &o
}

// registerInternet exposes the builtin instances' rate-limiting
// counters, never labelled by client: one collector for every instance
// (labelled by backend), as for the answer counts.
func registerInternet(reg prometheus.Registerer, servers []namedServer) {
	c := &rrlCollector{}
	for _, ns := range servers {
		if _, ok := ns.srv.RRLStats(); ok {
			c.servers = append(c.servers, ns)
		}
	}
	if len(c.servers) > 0 {
		reg.MustRegister(c)
	}
}

var rrlDesc = prometheus.NewDesc("dadns_dns_rrl_responses_total",
	"UDP answers over the response rate limit, by what was done: slipped (sent truncated, or BADCOOKIE), dropped, or limited (all of them; in log-only mode answered anyway).",
	[]string{"backend", "action"}, nil)

type rrlCollector struct {
	servers []namedServer
}

func (c *rrlCollector) Describe(ch chan<- *prometheus.Desc) { ch <- rrlDesc }

func (c *rrlCollector) Collect(ch chan<- prometheus.Metric) {
	for _, ns := range c.servers {
		st, ok := ns.srv.RRLStats()
		if !ok {
			continue
		}
		for action, n := range map[string]uint64{"limited": st.Limited, "slipped": st.Slipped, "dropped": st.Dropped} {
			ch <- prometheus.MustNewConstMetric(rrlDesc, prometheus.CounterValue, float64(n), ns.backend, action)
		}
	}
}
