package config

import (
	"net/netip"
	"testing"
)

func TestBuiltinRRLDefaults(t *testing.T) {
	c := mustLoad(t, "")
	got := c.DNS.Backends["builtin"].Builtin.RRL
	if !got.Enabled || got.ResponsesPerSecond != 20 || got.Slip != 2 || got.Window != 15 || got.IPv4Prefix != 24 || got.IPv6Prefix != 56 || got.TableSize != 65536 || len(got.ExemptPrefixes()) != 2 {
		t.Fatalf("defaults %+v", got)
	}
}

func TestBuiltinRRLFileAndEnv(t *testing.T) {
	c := mustLoad(t, `dns:
  backends:
    edge:
      type: builtin
      listen: 0.0.0.0:53
      rrl:
        responses_per_second: 50
        slip: 3
        exempt: [192.0.2.0/24, "2001:db8::1"]
        log_only: true
`, "DADNS_DNS_BACKENDS_EDGE_RRL_WINDOW=5", "DADNS_DNS_BACKENDS_EDGE_RRL_IPV4_PREFIX=32")
	got := c.DNS.Backends["edge"].Builtin.RRL
	if !got.Enabled || got.ResponsesPerSecond != 50 || got.Slip != 3 || !got.LogOnly || got.Window != 5 || got.IPv4Prefix != 32 || got.IPv6Prefix != 56 {
		t.Fatalf("rrl %+v", got)
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}
	ps := got.ExemptPrefixes()
	if len(ps) != 2 || ps[0] != want[0] || ps[1] != want[1] {
		t.Fatalf("exempt %v", ps)
	}
	c = mustLoad(t, "", "DADNS_DNS_BACKENDS_BUILTIN_RRL_ENABLED=false")
	if c.DNS.Backends["builtin"].Builtin.RRL.Enabled {
		t.Fatal("rrl still enabled")
	}
}

func TestBuiltinRRLValidation(t *testing.T) {
	_, err := loadYAML(t, `dns:
  backends:
    edge:
      type: builtin
      rrl: {responses_per_second: 0, slip: 11, ipv4_prefix: 40, exempt: [not-a-net]}
`)
	ps := problemsOf(t, err)
	for _, k := range []string{"responses_per_second", "slip", "ipv4_prefix", "exempt"} {
		if _, ok := findProblem(ps, "dns.backends.edge.rrl."+k, ""); !ok {
			t.Errorf("no problem reported for rrl.%s in %v", k, ps)
		}
	}
}

func TestBuiltinCookieKeys(t *testing.T) {
	c := mustLoad(t, "")
	if b := c.DNS.Backends["builtin"].Builtin; !b.Cookies || b.CookieSecret != "" || !b.MinimalANY {
		t.Fatalf("cookie defaults: %v %q", b.Cookies, b.CookieSecret)
	}
	c = mustLoad(t, "", "DADNS_DNS_BACKENDS_BUILTIN_COOKIE_SECRET=e5e973e5a6b2a43f48e7dc849e37bfcf", "DADNS_DNS_BACKENDS_BUILTIN_COOKIES=false", "DADNS_DNS_BACKENDS_BUILTIN_MINIMAL_ANY=false")
	b := c.DNS.Backends["builtin"].Builtin
	if k, ok := CookieSecretBytes(b.CookieSecret); !ok || k[0] != 0xe5 || b.Cookies || b.MinimalANY {
		t.Fatalf("cookie keys from env: %+v", b)
	}
	_, err := loadYAML(t, "dns: {backends: {edge: {type: builtin, cookie_secret: short, cookie_secret_previous: zz}}}")
	ps := problemsOf(t, err)
	for _, k := range []string{"cookie_secret", "cookie_secret_previous"} {
		if _, ok := findProblem(ps, "dns.backends.edge."+k, "hexadecimal"); !ok {
			t.Errorf("no problem for %s in %v", k, ps)
		}
	}
}
