package config

import "testing"

func TestBuiltinTelemetryDefaults(t *testing.T) {
	b := mustLoad(t, "").DNS.Backends["builtin"].Builtin
	if b.Dnstap.Enabled() || !b.Dnstap.Queries || !b.Dnstap.Responses || b.Dnstap.Buffer != 4096 || !b.ZoneCounts {
		t.Fatalf("dnstap %+v zone_counts %v", b.Dnstap, b.ZoneCounts)
	}
	if b.TCP != DefaultTCP() || b.TCP.MaxConnections != 1000 || b.TCP.MaxConnectionsPerPrefix != 100 || b.TCP.BusyIdleTimeoutMS != 500 {
		t.Fatalf("tcp %+v", b.TCP)
	}
}

func TestBuiltinTelemetryFileAndEnv(t *testing.T) {
	c := mustLoad(t, `dns:
  backends:
    edge:
      type: builtin
      zone_counts: false
      dnstap: {socket: /run/dnstap.sock, queries: false}
      tcp: {max_connections: 5000, idle_timeout_ms: 3000}
`, "DADNS_DNS_BACKENDS_EDGE_TCP_MAX_CONNECTIONS_PER_PREFIX=20", "DADNS_DNS_BACKENDS_EDGE_DNSTAP_IDENTITY=ns1")
	b := c.DNS.Backends["edge"].Builtin
	if b.ZoneCounts || !b.Dnstap.Enabled() || b.Dnstap.Socket != "/run/dnstap.sock" || b.Dnstap.Queries || !b.Dnstap.Responses || b.Dnstap.Identity != "ns1" {
		t.Fatalf("dnstap %+v zone_counts %v", b.Dnstap, b.ZoneCounts)
	}
	want := DefaultTCP()
	want.MaxConnections, want.IdleTimeoutMS, want.MaxConnectionsPerPrefix = 5000, 3000, 20
	if b.TCP != want {
		t.Fatalf("tcp %+v", b.TCP)
	}
}

func TestBuiltinTelemetryValidation(t *testing.T) {
	_, err := loadYAML(t, `dns:
  backends:
    edge:
      type: builtin
      dnstap: {socket: relative.sock, file: /var/log/dnstap, queries: false, responses: false, buffer: 1}
      tcp: {max_connections: 0, max_connections_per_prefix: 10, read_timeout_ms: 5, busy_idle_timeout_ms: 9000, write_timeout_ms: 0, max_queries_per_connection: 0}
`)
	ps := problemsOf(t, err)
	for _, k := range []string{"dnstap.socket", "dnstap.file", "dnstap.queries", "dnstap.buffer",
		"tcp.max_connections", "tcp.max_connections_per_prefix", "tcp.read_timeout_ms", "tcp.busy_idle_timeout_ms",
		"tcp.write_timeout_ms", "tcp.max_queries_per_connection"} {
		if _, ok := findProblem(ps, "dns.backends.edge."+k, ""); !ok {
			t.Errorf("no problem reported for %s in %v", k, ps)
		}
	}
	// dnstap keys without a destination are not checked: it is off.
	if _, err := loadYAML(t, `dns:
  backends:
    edge:
      type: builtin
      dnstap: {queries: false, responses: false}
`); err != nil {
		t.Fatalf("dnstap off rejected: %v", err)
	}
}

func TestBuiltinCacheEntries(t *testing.T) {
	if b := mustLoad(t, "").DNS.Backends["builtin"].Builtin; b.CacheEntries != 0 {
		t.Fatalf("default cache_entries %d, want 0 (the server's default)", b.CacheEntries)
	}
	c := mustLoad(t, `dns:
  backends:
    edge: {type: builtin, cache_entries: 300000}
    edge2: {type: builtin}
`, "DADNS_DNS_BACKENDS_EDGE2_CACHE_ENTRIES=4096")
	if got := c.DNS.Backends["edge"].Builtin.CacheEntries; got != 300000 {
		t.Fatalf("edge cache_entries %d", got)
	}
	if got := c.DNS.Backends["edge2"].Builtin.CacheEntries; got != 4096 {
		t.Fatalf("edge2 cache_entries from the environment: %d", got)
	}
	for _, bad := range []string{"10", "-1", "99999999"} {
		_, err := loadYAML(t, "dns:\n  backends:\n    edge: {type: builtin, cache_entries: "+bad+"}\n")
		if _, ok := findProblem(problemsOf(t, err), "dns.backends.edge.cache_entries", "out of range"); !ok {
			t.Errorf("cache_entries %s accepted", bad)
		}
	}
}

func TestBuiltinAddressSockets(t *testing.T) {
	if b := mustLoad(t, "").DNS.Backends["builtin"].Builtin; !b.AddressSockets {
		t.Fatal("address_sockets off by default")
	}
	c := mustLoad(t, `dns:
  backends:
    edge: {type: builtin, address_sockets: false}
    edge2: {type: builtin}
    edge3: {type: builtin}
`, "DADNS_DNS_BACKENDS_EDGE2_ADDRESS_SOCKETS=false")
	for name, want := range map[string]bool{"edge": false, "edge2": false, "edge3": true} {
		if got := c.DNS.Backends[name].Builtin.AddressSockets; got != want {
			t.Errorf("%s address_sockets %v, want %v", name, got, want)
		}
	}
}
