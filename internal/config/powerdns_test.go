package config

import "testing"

// TestPowerDNSKeys checks that a coredns_mysql instance moves over by
// changing its type, that defaults apply, and that the environment
// overrides the instance's keys.
func TestPowerDNSKeys(t *testing.T) {
	c := mustLoad(t, `
dns:
  backends:
    pdns_dc1:
      type: powerdns
      host: db1.example.com
      database: pdns
      username: dadns
      password: from-file
      tls: true
      tls_ca: /etc/ssl/ca.pem
      verify_address: 127.0.0.1:53
`, "DADNS_DNS_BACKENDS_PDNS_DC1_PASSWORD=from-env", "DADNS_DNS_BACKENDS_PDNS_DC1_POOL_SIZE=8",
		"DADNS_DNS_BACKENDS_PDNS_DC2_TYPE=powerdns", "DADNS_DNS_BACKENDS_PDNS_DC2_DSN=u:p@tcp(10.0.0.2:3306)/pdns")
	p := c.DNS.Backends["pdns_dc1"].PowerDNS
	want(t, p.Host, "db1.example.com")
	want(t, p.Port, 3306)
	want(t, p.Password, "from-env")
	want(t, p.PoolSize, 8)
	want(t, p.TimeoutSecs, 10)
	want(t, p.Account, "dadns")
	want(t, p.VerifySecs, 5)
	want(t, p.TLS, true)
	want(t, p.VerifyAddress, "127.0.0.1:53")
	dc2 := c.DNS.Backends["pdns_dc2"]
	want(t, dc2.Type, TypePowerDNS)
	want(t, dc2.PowerDNS.DSN, "u:p@tcp(10.0.0.2:3306)/pdns")
}

// TestPowerDNSProblems checks every bad setting is reported with its key.
func TestPowerDNSProblems(t *testing.T) {
	cases := []struct{ body, key, substr string }{
		{"{type: powerdns, database: d, username: u}", "dns.backends.p.host", "not a host name"},
		{"{type: powerdns, host: h, username: u}", "dns.backends.p.database", "not set"},
		{"{type: powerdns, host: h, database: d}", "dns.backends.p.username", "not set"},
		{"{type: powerdns, dsn: 'u:p@tcp(h)/d', host: h}", "dns.backends.p.dsn", "either dsn"},
		{"{type: powerdns, host: h, database: d, username: u, account: 'a b'}", "dns.backends.p.account", "not usable"},
		{"{type: powerdns, host: h, database: d, username: u, verify_address: nope}", "dns.backends.p.verify_address", ""},
		{"{type: powerdns, host: h, database: d, username: u, tls_ca: /ca.pem}", "dns.backends.p.tls", "tls is false"},
		{"{type: powerdns, host: h, database: d, username: u, pool_size: 0}", "dns.backends.p.pool_size", ""},
		{"{type: powerdns, host: h, database: d, username: u, api_key: x}", "dns.backends.p.api_key", ""},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			_, err := loadYAML(t, "dns:\n  backends:\n    p: "+tc.body+"\n")
			if _, ok := findProblem(problemsOf(t, err), tc.key, tc.substr); !ok {
				t.Fatalf("no problem about %s (%q) in %v", tc.key, tc.substr, err)
			}
		})
	}
}
