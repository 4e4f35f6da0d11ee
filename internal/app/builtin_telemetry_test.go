package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dnsserver"
)

func TestBuiltinTelemetryOptions(t *testing.T) {
	b := config.NewBackend("edge", config.TypeBuiltin).Builtin
	b.TCP.MaxConnections, b.TCP.IdleTimeoutMS, b.TCP.BusyIdleTimeoutMS = 5000, 3000, 250
	b.Dnstap.Socket = "/run/tap.sock"
	b.Dnstap.Queries = false
	var opt dnsserver.Options
	builtinTelemetry(&opt, b)
	if opt.TCPMaxConns != 5000 || opt.TCPMaxConnsPerPrefix != 100 || opt.TCPIdleTimeout != 3*time.Second ||
		opt.TCPBusyIdleTimeout != 250*time.Millisecond || opt.TCPReadTimeout != 2*time.Second ||
		opt.TCPWriteTimeout != 10*time.Second || opt.TCPMaxQueries != 128 || !opt.ZoneCounts {
		t.Fatalf("tcp options %+v", opt)
	}
	d := opt.Dnstap
	if d == nil || d.Socket != "/run/tap.sock" || d.Queries || !d.Responses || d.Identity == "" ||
		!strings.HasPrefix(d.Version, "dadns ") || d.Reconnect != time.Second || d.WriteTimeout != 2*time.Second || d.Buffer != 4096 {
		t.Fatalf("dnstap options %+v", d)
	}
	b.Dnstap.Socket = ""
	opt = dnsserver.Options{}
	builtinTelemetry(&opt, b)
	if opt.Dnstap != nil {
		t.Fatal("dnstap on without a destination")
	}
}

// TestRegisterTelemetry: a builtin instance with dnstap and zone counts
// gets the dnstap metrics (labelled by backend only) and a traffic view;
// one without gets neither.
func TestRegisterTelemetry(t *testing.T) {
	on := config.NewBackend("edge", config.TypeBuiltin)
	on.Builtin.Listen = "127.0.0.1:0"
	on.Builtin.Dnstap.File = filepath.Join(t.TempDir(), "tap.fstrm")
	off := config.NewBackend("quiet", config.TypeBuiltin)
	off.Builtin.Listen = "127.0.0.1:0"
	off.Builtin.ZoneCounts = false
	set := &backendSet{byName: map[string]backend.Backend{}}
	defer set.close()
	for _, bc := range []config.Backend{on, off} {
		b, err := newBuiltin(context.Background(), bc, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		set.byName[bc.Name] = b
	}
	reg := prometheus.NewRegistry()
	traffic := set.registerTelemetry(reg)
	if traffic == nil {
		t.Fatal("no traffic view")
	}
	if got := traffic(5).(map[string]dnsserver.ZoneTraffic); len(got) != 1 {
		t.Fatalf("traffic %+v", got)
	} else if _, ok := got["edge"]; !ok {
		t.Fatalf("traffic %+v", got)
	}
	if n, err := testutil.GatherAndCount(reg, "dadns_dns_dnstap_messages_total", "dadns_dns_dnstap_dropped_total", "dadns_dns_dnstap_connected"); err != nil || n != 3 {
		t.Fatalf("%d dnstap series, %v", n, err)
	}
}
