package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/powerdns"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/testutil/pdnstest"
)

// TestPowerDNSSecondaryThroughCatalog: PowerDNS 4.7 with its generic
// MySQL backend, whose only zone is the catalog as a consumer, serves a
// zone pushed to dadns, its change after NOTIFY, and drops it after its
// delete. (PowerDNS's consumer copies the catalog's primaries to member
// zones, not its TSIG key: this primary allows 127.0.0.1 unsigned.)
func TestPowerDNSSecondaryThroughCatalog(t *testing.T) {
	pdnstest.Require(t)
	db := mariadbtest.Start(t)
	name := db.NewDatabase(t)
	root := db.Root(t, name)
	for _, stmt := range powerdns.SchemaStatements() {
		if _, err := root.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	if _, err := root.Exec(`INSERT INTO domains (name, master, type) VALUES (?, ?, 'CONSUMER')`,
		secCat, fmt.Sprintf("127.0.0.1:%d", dnsPort)); err != nil {
		t.Fatal(err)
	}
	pd := pdnstest.Start(t, pdnstest.Options{
		DB: pdnstest.DB{Host: db.Host, Port: db.Port, Name: name, User: mariadbtest.User, Password: db.Password},
		Settings: []string{"secondary=yes", "xfr-cycle-interval=1", "allow-notify-from=127.0.0.0/8",
			"autosecondary=no", "disable-axfr=yes"},
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pdns_server log:\n%s", tailLines(pd.Log(), 40))
		}
	})
	backends := fmt.Sprintf(`    builtin:
      type: builtin
      listen: 127.0.0.1:%d
transfers:
  allow: [127.0.0.1]
  notify: ["%s"]
  catalog_zone: %s
`, dnsPort, pd.Addr, secCat)
	n := startNodeWith(t, dir, httpPort, backends)
	h := &hiddenPrimary{node: n}
	h.push(t, "pdns-a.example", e2eZone("pdns-a.example", 1))
	took := waitSecondary(t, pd.Addr, "pdns-a.example", 1, 90*time.Second)
	t.Logf("new zone served by the PowerDNS secondary %s after the push", took.Round(time.Millisecond))
	h.push(t, "pdns-a.example", e2eZone("pdns-a.example", 2))
	took = waitSecondary(t, pd.Addr, "pdns-a.example", 2, 60*time.Second)
	t.Logf("changed zone served by the PowerDNS secondary %s after the push", took.Round(time.Millisecond))
	code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN", "action=delete&cluster=yes&hostname=da1.example&select0=pdns-a.example")
	if err != nil || code != 200 || v.Get("error") != "0" {
		t.Fatalf("delete: %d %v %v", code, v, err)
	}
	waitSecondary(t, pd.Addr, "pdns-a.example", 0, 90*time.Second)
}
