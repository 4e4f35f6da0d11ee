package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultsWithoutFile(t *testing.T) {
	c, err := loadEnvOnly()
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != "" {
		t.Errorf("Source = %q, want empty", c.Source)
	}
	if got, want := c.DBPath(), filepath.Join("data", "dadns.db"); got != want {
		t.Errorf("DBPath = %q, want %q", got, want)
	}
	if c.App.ListenPort != 2222 || c.App.ListenAddress != "" || c.App.AuthUsername != "directdnsonly" || c.App.AuthPassword != "" {
		t.Errorf("app defaults wrong: %+v", c.App)
	}
	bs := c.EnabledBackends()
	if len(bs) != 1 || bs[0].Name != "builtin" || bs[0].Type != TypeBuiltin || bs[0].Builtin.Listen != "127.0.0.1:5353" {
		t.Errorf("EnabledBackends = %+v, want the builtin instance on 127.0.0.1:5353", bs)
	}
	if c.SlogLevel() != slog.LevelInfo {
		t.Errorf("SlogLevel = %v", c.SlogLevel())
	}
	c.origins = nil
	if want := Default(); !reflect.DeepEqual(c, want) {
		t.Errorf("loaded defaults differ from Default():\n got %+v\nwant %+v", c, want)
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSearchOrder(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "b/app.yml", "app: {listen_port: 3001}\n")
	writeFile(t, root, "c/app.yml", "app: {listen_port: 3002}\n")
	writeFile(t, root, "y/app.yaml", "app: {listen_port: 3003}\n")
	writeFile(t, root, "both/app.yml", "app: {listen_port: 3004}\n")
	writeFile(t, root, "both/app.yaml", "app: {listen_port: 3005}\n")
	dir := func(n string) string { return filepath.Join(root, n) }
	tests := []struct {
		name     string
		dirs     []string
		wantFile string
		wantPort int
	}{
		{"first dir holding app.yml wins", []string{dir("a"), dir("b"), dir("c")}, "b/app.yml", 3001},
		{"order is the caller's", []string{dir("c"), dir("b")}, "c/app.yml", 3002},
		{"app.yaml accepted", []string{dir("a"), dir("y"), dir("b")}, "y/app.yaml", 3003},
		{"app.yml before app.yaml", []string{dir("both")}, "both/app.yml", 3004},
		{"nothing found gives defaults", []string{dir("a"), dir("x")}, "", 2222},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(LoadOptions{SearchDirs: tt.dirs, Environ: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.wantFile != "" {
				want = filepath.Join(root, tt.wantFile)
			}
			if c.Source != want || c.App.ListenPort != tt.wantPort {
				t.Errorf("Source %q port %d, want %q port %d", c.Source, c.App.ListenPort, want, tt.wantPort)
			}
		})
	}
}

func TestExplicitFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "app.yml", "app: {listen_port: 3001}\n")
	explicit := writeFile(t, t.TempDir(), "custom.yml", "app: {listen_port: 3009}\n")

	c, err := Load(LoadOptions{File: explicit, SearchDirs: []string{dir}, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != explicit || c.App.ListenPort != 3009 {
		t.Errorf("got %q port %d; --config must win over the search path", c.Source, c.App.ListenPort)
	}

	missing := filepath.Join(t.TempDir(), "nope.yml")
	_, err = Load(LoadOptions{File: missing, SearchDirs: []string{dir}, Environ: []string{}})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing --config: got %v, want a not-exist error naming the file", err)
	}
}

func TestUnreadableFiles(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"syntax error", "app:\n  listen_port: [\n", "line"},
		{"root is a list", "- a\n- b\n", "must be a mapping"},
		{"root is a scalar", "hello\n", "must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.body)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "config: load ") {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	c := mustLoad(t, "# nothing here\n---\n")
	if c.App.ListenPort != 2222 || len(c.EnabledBackends()) != 1 || c.Source == "" {
		t.Errorf("empty file: %+v", c)
	}
}

func TestFileBackendsReplaceDefaultSet(t *testing.T) {
	c := mustLoad(t, `
dns:
  backends:
    zbind:
      type: bind
      zones_dir: /z
      named_conf: /z.conf
    off:
      type: builtin
      enabled: false
    abuiltin:
      type: builtin
      listen: "[::1]:5300"
`)
	var names []string
	for _, b := range c.EnabledBackends() {
		names = append(names, b.Name)
	}
	if want := []string{"abuiltin", "zbind"}; !reflect.DeepEqual(names, want) {
		t.Errorf("EnabledBackends = %v, want %v (sorted, disabled left out, no default builtin)", names, want)
	}
	b := c.DNS.Backends["zbind"]
	if b.Bind.RndcPath != "rndc" || b.Bind.FileMode != 0o644 || !b.Enabled ||
		b.Bind.NamedCheckconf != "named-checkconf" || b.Bind.VerifyTransfer || b.Bind.CheckNames != "ignore" || b.Bind.MaxRecordsPerType != 0 {
		t.Errorf("bind defaults not applied: %+v", b.Bind)
	}
	if _, ok := c.DNS.Backends["builtin"]; ok {
		t.Error("the default builtin instance survived a file that defines dns.backends")
	}
}

func TestValueSpellings(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(c *Config) bool
	}{
		{"log level case-insensitive", "log_level: INFO", func(c *Config) bool { return c.LogLevel == "info" }},
		{"warn means warning", "log_level: Warn", func(c *Config) bool { return c.LogLevel == "warning" && c.SlogLevel() == slog.LevelWarn }},
		{"critical above error", "log_level: critical", func(c *Config) bool { return c.SlogLevel() > slog.LevelError }},
		{"bool as 0", "app: {check_subdomain_owner_in_cluster_domainowners: 0}", func(c *Config) bool { return !c.App.CheckSubdomainOwner }},
		{"bool as yes", "app: {proxy_support: yes}", func(c *Config) bool { return c.App.ProxySupport }},
		{"bool as quoted string", `reconciliation: {verify_ssl: "false"}`, func(c *Config) bool { return !c.Reconciliation.VerifySSL }},
		{"quoted int", `app: {listen_port: "8080"}`, func(c *Config) bool { return c.App.ListenPort == 8080 }},
		{"octal mode", "dns: {backends: {b: {type: bind, zones_dir: /z, named_conf: /n, file_mode: 0640, dir_mode: \"0750\"}}}",
			func(c *Config) bool { b := c.DNS.Backends["b"].Bind; return b.FileMode == 0o640 && b.DirMode == 0o750 }},
		{"bind transfer and checkconf", "dns: {backends: {b: {type: bind, zones_dir: /z, named_conf: /n, verify_transfer: yes, named_checkconf: /opt/bin/named-checkconf}}}",
			func(c *Config) bool {
				b := c.DNS.Backends["b"].Bind
				return b.VerifyTransfer && b.NamedCheckconf == "/opt/bin/named-checkconf"
			}},
		{"null keeps default", "app:\n  listen_port:\n", func(c *Config) bool { return c.App.ListenPort == 2222 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadYAML(t, tt.body+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("%s: unexpected result %+v", tt.body, c)
			}
		})
	}
}

func TestAliasesOfThePythonKeys(t *testing.T) {
	c := mustLoad(t, "queue_location: /var/lib/ddo/queues\n")
	if c.DataDir != "/var/lib/ddo/queues" || c.DBPath() != "/var/lib/ddo/queues/dadns.db" {
		t.Errorf("queue_location alone: data dir %q db %q", c.DataDir, c.DBPath())
	}
	c = mustLoad(t, "queue_location: /q\ndata_dir: /d\ndatastore: {db_location: /db/x.db}\n")
	if c.DataDir != "/d" || c.DBPath() != "/db/x.db" {
		t.Errorf("data_dir must win over queue_location: %q, db %q", c.DataDir, c.DBPath())
	}
	c = mustLoad(t, "dns: {backends: {c: {type: coredns_mysql, host: db, database: d, username: u, table_name: rr}}}\n")
	if got := c.DNS.Backends["c"].CoreDNSMySQL.RecordsTable; got != "rr" {
		t.Errorf("table_name alias: records_table = %q", got)
	}
}

func TestAnchorsAndAliases(t *testing.T) {
	c := mustLoad(t, `
app:
  listen_port: &port 2300
reconciliation:
  directadmin_servers:
    - {hostname: da.example.com, port: *port, username: a, password: p}
`)
	if c.Reconciliation.DirectAdminServers[0].Port != 2300 {
		t.Errorf("alias not followed: %+v", c.Reconciliation.DirectAdminServers)
	}
}
