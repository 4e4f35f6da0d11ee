package config

import (
	"os"
	"path/filepath"
	"testing"
)

// checkLoaded asserts that a configuration Load accepted survives the trip
// through Redacted unchanged.
func checkLoaded(t *testing.T, c *Config) {
	first := c.Redacted()
	p := filepath.Join(t.TempDir(), "redacted.yml")
	if err := os.WriteFile(p, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := Load(LoadOptions{File: p, Environ: []string{}})
	if err != nil {
		t.Fatalf("Redacted output does not load: %v\n%s", err, first)
	}
	if dropFirstLine(again.Redacted()) != dropFirstLine(first) {
		t.Fatalf("Redacted output loads as another configuration:\n%s", first)
	}
}

func FuzzLoadFile(f *testing.F) {
	for _, name := range []string{"directdnsonly-app.yml", "directdnsonly-multi-dc.yml", "bad.yml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("a: &x {b: *x}\n")
	f.Add("dns: {backends: {b: &i {type: builtin}, c: *i}}\n")
	f.Fuzz(func(t *testing.T, body string) {
		c, err := loadYAML(t, body)
		if err == nil {
			checkLoaded(t, c)
		}
	})
}

func FuzzEnv(f *testing.F) {
	f.Add("DADNS_DNS_BACKENDS_CORE_DC1_PASSWORD", "x")
	f.Add("DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_3_ALIASES", "a,b,,c")
	f.Add("DADNS_DNS_BACKENDS_CORE__TYPE", "bind")
	f.Add("DADNS_APP_LISTEN_PORT", "0x10")
	f.Fuzz(func(t *testing.T, name, value string) {
		c, err := loadYAML(t, fileWithInstances, name+"="+value)
		if err == nil {
			checkLoaded(t, c)
		}
	})
}
