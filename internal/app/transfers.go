package app

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dadns/dadns/internal/backend/builtin"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/store"
)

// transferOptions turns the transfers section into the builtin server's
// options; nil when nobody may transfer.
func transferOptions(t *config.TransfersConfig, log *slog.Logger) *dnsserver.TransferOptions {
	if t == nil || !t.Enabled() {
		return nil
	}
	keys := map[string]dnsserver.TSIGKey{}
	for _, k := range t.TSIGKeys {
		name := dns.CanonicalName(k.Name)
		keys[name] = dnsserver.TSIGKey{Algorithm: dns.CanonicalName(k.Algorithm), Secret: k.Secret}
		if _, err := base64.StdEncoding.DecodeString(k.Secret); err != nil {
			log.Error("transfers: TSIG key secret is not base64", "key", k.Name)
		}
	}
	var prefixes []netip.Prefix
	allowKeys := map[string]bool{}
	for _, a := range t.Allow {
		if p, err := netip.ParsePrefix(a); err == nil {
			prefixes = append(prefixes, p.Masked())
		} else if ip, err := netip.ParseAddr(a); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		} else {
			allowKeys[dns.CanonicalName(a)] = true
		}
	}
	opt := &dnsserver.TransferOptions{
		Allow: func(client netip.Addr, key string) bool {
			if key != "" && allowKeys[dns.CanonicalName(key)] {
				return true
			}
			for _, p := range prefixes {
				if p.Contains(client) {
					return true
				}
			}
			return false
		},
		TSIG:          keys,
		Timeout:       time.Duration(t.TimeoutSeconds) * time.Second,
		MaxConcurrent: t.MaxConcurrent,
		NotifyNS:      t.NotifyNS,
		Catalog:       t.CatalogZone,
	}
	if t.NotifyKey != "" {
		opt.NotifyKey = dns.CanonicalName(t.NotifyKey)
	}
	for _, n := range t.Notify {
		if _, err := netip.ParseAddrPort(n); err == nil {
			opt.Notify = append(opt.Notify, n)
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(n, "[]")); err == nil {
			opt.Notify = append(opt.Notify, netip.AddrPortFrom(ip, 53).String())
		}
	}
	return opt
}

// storeOwners returns the owning DirectAdmin server of each origin (FQDN)
// from the store, for the catalog's group property.
func storeOwners(st liveReader) func([]string) map[string]string {
	return func(origins []string) map[string]string {
		names := make([]string, len(origins))
		for i, o := range origins {
			names[i] = strings.TrimSuffix(o, ".")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		live, err := st.Live(ctx, names)
		out := make(map[string]string, len(live))
		if err != nil {
			return out
		}
		for i, n := range names {
			if z, ok := live[n]; ok {
				out[origins[i]] = z.OwnerHost
			}
		}
		return out
	}
}

// liveReader is the store's lookup of live zones.
type liveReader interface {
	Live(ctx context.Context, names []string) (map[string]store.Zone, error)
}

// setCatalogGroups makes the builtin servers' catalogs carry each zone's
// owning DirectAdmin server as its group, when configured.
func (s *backendSet) setCatalogGroups(cfg *config.Config, st liveReader) {
	if !cfg.Transfers.Enabled() || !cfg.Transfers.CatalogGroups {
		return
	}
	for _, b := range s.byName {
		if bb, ok := b.(*builtin.Backend); ok {
			bb.Server().SetCatalogGroups(storeOwners(st))
		}
	}
}

// transferCollector exposes the builtin servers' transfer and NOTIFY counts.
type transferCollector struct{ servers map[string]*dnsserver.Server }

var (
	transfersDesc = prometheus.NewDesc("dadns_transfers_total",
		"Zone transfers requested from the builtin server, by type and result.", []string{"backend", "type", "result"}, nil)
	notifiesDesc = prometheus.NewDesc("dadns_notifies_total",
		"NOTIFY messages sent by the builtin server, by outcome (sent, acknowledged, failed: given up after retries).", []string{"backend", "outcome"}, nil)
)

func (c transferCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- transfersDesc
	ch <- notifiesDesc
}

func (c transferCollector) Collect(ch chan<- prometheus.Metric) {
	for name, srv := range c.servers {
		st := srv.TransferStats()
		for k, n := range st.Transfers {
			ch <- prometheus.MustNewConstMetric(transfersDesc, prometheus.CounterValue, float64(n), name, k[0], k[1])
		}
		ch <- prometheus.MustNewConstMetric(notifiesDesc, prometheus.CounterValue, float64(st.NotifySent), name, "sent")
		ch <- prometheus.MustNewConstMetric(notifiesDesc, prometheus.CounterValue, float64(st.NotifyAcked), name, "acknowledged")
		ch <- prometheus.MustNewConstMetric(notifiesDesc, prometheus.CounterValue, float64(st.NotifyFailed), name, "failed")
	}
}

// registerTransfers exposes the transfer metrics and returns the /status
// view of the secondaries (nil when transfers are off).
func (s *backendSet) registerTransfers(reg *prometheus.Registry, cfg *config.Config) func() any {
	if !cfg.Transfers.Enabled() {
		return nil
	}
	servers := map[string]*dnsserver.Server{}
	for name, b := range s.byName {
		if bb, ok := b.(*builtin.Backend); ok {
			servers[name] = bb.Server()
		}
	}
	if len(servers) == 0 {
		return nil
	}
	reg.MustRegister(transferCollector{servers: servers})
	return func() any {
		out := map[string][]dnsserver.Secondary{}
		for name, srv := range servers {
			out[name] = srv.Secondaries()
		}
		return out
	}
}
