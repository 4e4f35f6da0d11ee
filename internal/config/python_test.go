package config

import (
	"path/filepath"
	"testing"
)

// TestPythonExampleLoads loads a file in the shape of the Python
// directdnsonly's shipped app.yml, with its optional sections switched on.
func TestPythonExampleLoads(t *testing.T) {
	c, err := Load(LoadOptions{File: filepath.Join("testdata", "directdnsonly-app.yml"), Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	want(t, c.LogLevel, "info")
	want(t, c.LogFormat, "json")
	want(t, c.Timezone, "Pacific/Auckland")
	want(t, c.DataDir, "./data/queues")
	want(t, c.DBPath(), "./data/directdnsonly.db")
	want(t, c.Datastore.Port, 3306)
	want(t, c.App.AuthPassword, "app-secret")
	want(t, c.App.SSLEnable, true)
	want(t, c.App.CheckSubdomainOwner, true)
	want(t, c.App.ListenPort, 2222)
	want(t, c.Reconciliation.DryRun, true)
	want(t, len(c.Reconciliation.DirectAdminServers), 2)
	want(t, c.Reconciliation.DirectAdminServers[1], DirectAdminServer{
		Hostname: "da2.example.com", Port: 2222, Username: "admin", Password: "da2-secret", SSL: true,
	})
	want(t, c.PeerSync.Peers, []Peer{{URL: "http://ddo-2:2222", Username: "directdnsonly", Password: "peer-secret"}})
	want(t, enabledNames(c), []string{"bind"})
	want(t, c.DNS.Backends["nsd"].NSD.NSDConf, "/etc/nsd/nsd.conf.d/zones.conf")
	want(t, c.DNS.Backends["bind"].Bind.NamedConf, "./data/named.conf.include")
}

// TestPythonMultiDCLoads loads the Python README's multi-backend example.
func TestPythonMultiDCLoads(t *testing.T) {
	c, err := Load(LoadOptions{File: filepath.Join("testdata", "directdnsonly-multi-dc.yml"), Environ: []string{
		"DADNS_DNS_BACKENDS_COREDNS_DC2_PASSWORD=from-env",
	}})
	if err != nil {
		t.Fatal(err)
	}
	want(t, c.DNS.DefaultBackend, "coredns_dc1")
	want(t, enabledNames(c), []string{"coredns_dc1", "coredns_dc2"})
	dc1, dc2 := c.DNS.Backends["coredns_dc1"].CoreDNSMySQL, c.DNS.Backends["coredns_dc2"].CoreDNSMySQL
	want(t, dc1.Host, "10.0.0.80")
	want(t, dc1.RecordsTable, "records")
	want(t, dc1.Password, "dc1-secret")
	want(t, dc2.RecordsTable, "dns_records")
	want(t, dc2.Password, "from-env")
	want(t, dc2.PoolSize, 4)
	want(t, dc2.TimeoutSecs, 10)
}
