package config

import (
	"strings"
	"testing"
)

// TestEveryProblemInOneError loads a file full of mistakes and checks that
// the single error names each of them with its key, line or variable, and a
// fix.
func TestEveryProblemInOneError(t *testing.T) {
	_, err := loadYAML(t, readTestdata(t, "bad.yml"),
		"DADNS_LIMITS_MAX_ZONES=-1",
		"DADNS_APP_AUTH_PASWORD=x",
		"DADNS_DNS_BACKENDS_FAST_LISTEN=nope",
	)
	if err == nil {
		t.Fatal("bad.yml loaded without error")
	}
	wantProblems := []struct {
		origin, key, msg string
	}{
		{"line 1", "log_level", `"verbose" is not a log level; use one of`},
		{"line 2", "log_format", "use text or json"},
		{"line 4", "app.listen_prot", `did you mean "listen_port"`},
		{"line 5", "app.listen_port", "use a number from 1 to 65535"},
		{"line 6", "app.listen_address", "without a port"},
		{"line 7", "app.ssl_enable", "not a boolean; use true or false"},
		{"line 8", "app.max_body_bytes", "not a whole number"},
		{"line 10", "limits.max_records_per_zone", "use 1 or more"},
		{"line 13", "dns.default_backend", "not a defined backend instance"},
		{"line 15", "dns.backends.bind.zones_dir", "is not set"},
		{"line 15", "dns.backends.bind.named_conf", "is not set"},
		{"line 17", "dns.backends.bind.listen", "is a setting of builtin backends, not of bind"},
		{"line 18", "dns.backends.Core-1", "may only use a-z, 0-9 and _"},
		{"line 20", "dns.backends.dc2.type", "missing type"},
		{"line 23", "dns.backends.pdns.type", `did you mean "powerdns"`},
		{"line 27", "dns.backends.coredns.port", "1 to 65535"},
		{"line 30", "dns.backends.coredns.zones_table", "not a table name"},
		{"line 31", "dns.backends.coredns.pool_size", "use 1 or more"},
		{"line 37", "reconciliation.max_delete_fraction", "outside (0, 1]"},
		{"line 39", "reconciliation.directadmin_servers.0.hostname", "the server's name only"},
		{"line 39", "reconciliation.directadmin_servers.0.password", "is empty"},
		{"line 44", "peer_sync.peers.0.url", "not an http(s) URL"},
		{"line 45", "timezone", "expected a single value, found a list"},
		{"DADNS_APP_AUTH_PASWORD", "", `did you mean "DADNS_APP_AUTH_PASSWORD"`},
		{"DADNS_DNS_BACKENDS_FAST_LISTEN", "dns.backends.fast.listen", "not a host:port address"},
		{"DADNS_LIMITS_MAX_ZONES", "limits.max_zones", "use 1 or more"},
	}
	problems := problemsOf(t, err)
	for _, w := range wantProblems {
		p, ok := findProblem(problems, w.key, w.msg)
		if !ok {
			t.Errorf("missing problem %s: %s: ...%s...", w.origin, w.key, w.msg)
			continue
		}
		if p.Origin.String() != w.origin {
			t.Errorf("%s: origin %q, want %q", w.key, p.Origin, w.origin)
		}
		if !strings.Contains(err.Error(), p.String()) {
			t.Errorf("error text lacks %q", p.String())
		}
	}
	if len(problems) != len(wantProblems) {
		t.Errorf("got %d problems, want %d:\n%v", len(problems), len(wantProblems), err)
	}
	if first := strings.SplitN(err.Error(), "\n", 2)[0]; !strings.HasPrefix(first, "config: load ") || !strings.HasSuffix(first, "26 problems:") {
		t.Errorf("first line %q", first)
	}
}

func TestProblemsOneByOne(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		key, msg   string
	}{
		{"wrong type: list for a number", "app: {listen_port: [1, 2]}", nil, "app.listen_port", "expected a single value"},
		{"wrong type: scalar for a section", "app: hello", nil, "app", "expected a mapping"},
		{"wrong type: mapping for a list", "reconciliation: {directadmin_servers: {hostname: x}}", nil, "reconciliation.directadmin_servers", "expected a list"},
		{"wrong type: scalar for aliases", "app: {owner_aliases: {da1.example.com: da1.example.net}}", nil, "app.owner_aliases.da1.example.com", "expected a list"},
		{"number too large", "limits: {max_zones: 99999999999999999999}", nil, "limits.max_zones", "too large"},
		{"duplicate key", "log_level: info\nlog_level: debug", nil, "log_level", "key given twice (first at line 1)"},
		{"unknown top-level key without a close match", "frobnicate: 1", nil, "frobnicate", "known keys here:"},
		{"unknown backend type", "dns: {backends: {x: {type: djbdns}}}", nil, "dns.backends.x.type", "use one of"},
		{"ssl without cert", "app: {ssl_enable: true, ssl_key: /k}", nil, "app.ssl_cert", "ssl_enable is true"},
		{"ssl without key", "app: {ssl_enable: true, ssl_cert: /c}", nil, "app.ssl_key", "ssl_enable is true"},
		{"builtin listen without port", "dns: {backends: {b: {type: builtin, listen: 127.0.0.1}}}", nil, "dns.backends.b.listen", "host:port"},
		{"builtin listen port out of range", "dns: {backends: {b: {type: builtin, listen: \"127.0.0.1:99999\"}}}", nil, "dns.backends.b.listen", "host:port"},
		{"bad mode", "dns: {backends: {b: {type: bind, zones_dir: /z, named_conf: /n, file_mode: \"0986\"}}}", nil, "dns.backends.b.file_mode", "octal digits"},
		{"bad check_names", "dns: {backends: {b: {type: bind, zones_dir: /z, named_conf: /n, check_names: loose}}}", nil, "dns.backends.b.check_names", "use ignore"},
		{"negative max_records_per_type", "dns: {backends: {b: {type: bind, zones_dir: /z, named_conf: /n, max_records_per_type: -1}}}", nil, "dns.backends.b.max_records_per_type", "too small"},
		{"env check_names", "dns: {backends: {bind: {type: bind, zones_dir: /z, named_conf: /n}}}", []string{"DADNS_DNS_BACKENDS_BIND_CHECK_NAMES=strict"}, "dns.backends.bind.check_names", "use ignore"},
		{"no checkconf", "dns: {backends: {b: {type: bind, zones_dir: /z, named_conf: /n, named_checkconf: \"\"}}}", nil, "dns.backends.b.named_checkconf", "is not set"},
		{"zero fraction", "reconciliation: {max_delete_fraction: 0}", nil, "reconciliation.max_delete_fraction", "outside (0, 1]"},
		{"negative interval", "reconciliation: {interval_minutes: -1}", nil, "reconciliation.interval_minutes", "too small"},
		{"reconciliation without servers", "reconciliation: {enabled: true}", nil, "reconciliation.directadmin_servers", "no server is listed"},
		{"duplicate servers", "reconciliation: {directadmin_servers: [{hostname: a.example, username: u, password: p}, {hostname: A.example, username: u, password: p}]}", nil,
			"reconciliation.directadmin_servers.1.hostname", "listed twice"},
		{"unknown datastore", "datastore: {type: postgres}", nil, "datastore.type", "set sqlite"},
		{"mysql datastore without database", "datastore: {type: mysql, host: db1, user: u}", nil, "datastore.name", "is not set"},
		{"mysql datastore bad host", "datastore: {type: mysql, host: 'db1,bad host', name: d, user: u}", nil, "datastore.host", "not a host name"},
		{"mysql datastore tls options", "datastore: {type: mysql, host: db1, name: d, user: u, tls_ca: /ca.pem}", nil, "datastore.tls", "set tls: true"},
		{"node id with @", "app: {node_id: 'a@b'}", nil, "app.node_id", "without spaces or @"},
		{"short claim lease", "datastore: {claim_lease_seconds: 1}", nil, "datastore.claim_lease_seconds", ""},
		{"tls options without tls", "dns: {backends: {c: {type: coredns_mysql, host: db, database: d, username: u, tls_ca: /ca.pem}}}", nil, "dns.backends.c.tls", "set tls: true"},
		{"env wrong type", "", []string{"DADNS_APP_LISTEN_PORT=abc"}, "app.listen_port", "not a whole number"},
		{"env bad bool", "", []string{"DADNS_RECONCILIATION_ENABLED=maybe"}, "reconciliation.enabled", "not a boolean"},
		{"env unknown instance", "", []string{"DADNS_DNS_BACKENDS_BIND_ENABLED=true"}, "", "DADNS_DNS_BACKENDS_<NAME>_TYPE"},
		{"env setting of another type", "dns: {backends: {bind: {type: bind, zones_dir: /z, named_conf: /n}}}", []string{"DADNS_DNS_BACKENDS_BIND_LISTEN=127.0.0.1:53"}, "", `instance "bind" (type bind) has no setting "listen"`},
		{"env map key", "", []string{"DADNS_APP_OWNER_ALIASES_DA1=x"}, "", "only be set in the config file"},
		{"env python peer variable", "", []string{"DADNS_PEER_SYNC_PEER_URL=http://x"}, "", "DADNS_PEER_SYNC_PEERS_<N>_URL"},
		{"env bad index", "", []string{"DADNS_PEER_SYNC_PEERS_X_URL=http://x"}, "", "matches no configuration key"},
		{"env section itself", "", []string{"DADNS_APP=1"}, "", "matches no configuration key"},
		{"env list entry without required keys", "", []string{"DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_1_HOSTNAME=da.example.com"}, "reconciliation.directadmin_servers.0.hostname", "not a host name"},
		{"env over a scalar in the file", "peer_sync: 5", []string{"DADNS_PEER_SYNC_ENABLED=true"}, "peer_sync.enabled", "cannot apply the variable"},
		{"env type typo", "", []string{"DADNS_DNS_BACKENDS_X_TYPE=bnid"}, "dns.backends.x.type", `did you mean "bind"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.file+"\n", tt.env...)
			if err == nil {
				t.Fatal("loaded without error")
			}
			ps := problemsOf(t, err)
			p, ok := findProblem(ps, tt.key, tt.msg)
			if !ok {
				t.Fatalf("no problem %q containing %q in:\n%v", tt.key, tt.msg, err)
			}
			if len(tt.env) > 0 && p.Env == "" {
				t.Errorf("problem from a variable does not name it: %+v", p)
			}
			if len(tt.env) == 0 && p.Line == 0 {
				t.Errorf("problem from the file has no line: %+v", p)
			}
		})
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	c := Default()
	c.App.ListenPort = 0
	b := NewBackend("x", "nope")
	c.DNS.Backends["x"] = b
	err := c.Validate()
	ps := problemsOf(t, err)
	if _, ok := findProblem(ps, "app.listen_port", "not a port"); !ok {
		t.Errorf("listen port not reported: %v", err)
	}
	if p, ok := findProblem(ps, "dns.backends.x.type", "unknown backend type"); !ok || p.Origin.String() != "default" {
		t.Errorf("unknown type not reported as a default: %v", err)
	}
}
