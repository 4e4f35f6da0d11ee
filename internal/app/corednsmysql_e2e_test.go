package app

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// mysqlDC is one data centre's database for a coredns_mysql instance.
type mysqlDC struct {
	name string
	srv  *mariadbtest.Server
	root *sql.DB
}

func startDC(t testing.TB, name string) *mysqlDC {
	srv := mariadbtest.Start(t)
	if err := srv.CreateDatabase("dns"); err != nil {
		t.Fatal(err)
	}
	return &mysqlDC{name: name, srv: srv, root: srv.Root(t, "dns")}
}

// backendYAML is the dns.backends entry for the instance.
func (d *mysqlDC) backendYAML() string {
	return fmt.Sprintf("    %s:\n      type: coredns_mysql\n      host: 127.0.0.1\n      port: %d\n      database: dns\n"+
		"      username: %s\n      password: %s\n      timeout_seconds: 2\n", d.name, d.srv.Port, mariadbtest.User, d.srv.Password)
}

// serials returns zone name → SOA serial as the rows hold them.
func (d *mysqlDC) serials() (map[string]int, error) {
	rs, err := d.root.Query(`SELECT z.zone_name, r.data FROM zones z JOIN records r ON r.zone_id = z.id
WHERE r.type = 'SOA' AND r.hostname = '@' AND r.online = 1`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]int{}
	for rs.Next() {
		var name, data string
		if err := rs.Scan(&name, &data); err != nil {
			return nil, err
		}
		var serial int
		f := strings.Fields(data)
		if len(f) == 7 {
			fmt.Sscan(f[2], &serial)
		}
		out[strings.TrimSuffix(name, ".")] = serial
	}
	return out, rs.Err()
}

// converged reports whether the rows hold exactly want (zone → serial).
func (d *mysqlDC) converged(want map[string]int) (bool, string) {
	got, err := d.serials()
	if err != nil {
		return false, err.Error()
	}
	bad := 0
	for name, serial := range want {
		if got[name] != serial {
			bad++
		}
	}
	return bad == 0 && len(got) == len(want), fmt.Sprintf("%d of %d zones behind, %d rows of zones", bad, len(want), len(got))
}

func (d *mysqlDC) waitConverged(t testing.TB, want map[string]int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := d.converged(want)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not converge: %s", d.name, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pushZones pushes zones "<prefix>N.example" with the given serial from
// several clients at once and returns zone → serial.
func pushZones(t testing.TB, n *node, prefix string, count, serial int) map[string]int {
	return pushZonesWith(t, n, 8, prefix, count, serial)
}

func pushZonesWith(t testing.TB, n *node, clients int, prefix string, count, serial int) map[string]int {
	t.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < count; i = int(next.Add(1)) - 1 {
				name := fmt.Sprintf("%s%d.example", prefix, i)
				q := url.Values{"action": {"rawsave"}, "domain": {name}, "hostname": {"da1.example"}}
				code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), e2eZone(name, serial))
				if err != nil || code != 200 || v.Get("error") != "0" {
					errs <- fmt.Errorf("push %s: %d %v %v", name, code, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	want := make(map[string]int, count)
	for i := range count {
		want[fmt.Sprintf("%s%d.example", prefix, i)] = serial
	}
	return want
}

// TestCoreDNSMySQLTwoDCsOneDown runs dadns with two coredns_mysql
// instances: both fill concurrently; one database stops mid-burst and the
// other keeps up; once it is back it converges with no operator action.
func TestCoreDNSMySQLTwoDCsOneDown(t *testing.T) {
	mariadbtest.Require(t)
	dc1, dc2 := startDC(t, "coredns_mysql_dc1"), startDC(t, "coredns_mysql_dc2")
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, t.TempDir(), httpPort, dc1.backendYAML()+dc2.backendYAML())

	want := pushZones(t, n, "a", 150, 2026010101)
	dc1.waitConverged(t, want, 60*time.Second)
	dc2.waitConverged(t, want, 60*time.Second)

	// Second burst: dc2 goes down part-way through.
	half := make(chan struct{})
	go func() {
		defer close(half)
		for i := 0; i < 300; i++ {
			if s, _ := dc1.serials(); countSerial(s, 2026020202) > 40 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		dc2.srv.Stop()
	}()
	for k := range want {
		delete(want, k)
	}
	for k, v := range pushZones(t, n, "a", 150, 2026020202) {
		want[k] = v
	}
	for k, v := range pushZones(t, n, "b", 100, 2026020202) {
		want[k] = v
	}
	<-half
	dc1.waitConverged(t, want, 60*time.Second)
	if _, err := dc2.serials(); err == nil {
		t.Fatal("dc2 answers while stopped")
	}
	if err := dc2.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The dispatcher retries failed zones on its schedule (first retry
	// after 30 s): no operator action.
	dc2.waitConverged(t, want, 100*time.Second)
	n.kill() // output is complete once the process is gone
	if strings.Contains(n.out.String(), "panic") {
		t.Fatalf("dadns panicked:\n%s", n.out)
	}
}

func countSerial(m map[string]int, serial int) int {
	n := 0
	for _, s := range m {
		if s == serial {
			n++
		}
	}
	return n
}

// TestCoreDNSMySQLThroughput pushes 10,000 zones through the HTTP API into
// a dadns with two coredns_mysql instances and reports zones/s from the
// first push until both databases hold every zone. It is a measurement,
// run on demand:
// COREDNS_MYSQL_BENCH=1 go test -run CoreDNSMySQLThroughput -v ./internal/app
func TestCoreDNSMySQLThroughput(t *testing.T) {
	if os.Getenv("COREDNS_MYSQL_BENCH") == "" || testing.Short() {
		t.Skip("a measurement: set COREDNS_MYSQL_BENCH=1 to run it")
	}
	mariadbtest.Require(t)
	count := 10000
	if v, err := strconv.Atoi(os.Getenv("COREDNS_MYSQL_BENCH")); err == nil && v > 1 {
		count = v
	}
	dc1, dc2 := startDC(t, "coredns_mysql_dc1"), startDC(t, "coredns_mysql_dc2")
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, t.TempDir(), httpPort, dc1.backendYAML()+dc2.backendYAML())
	start := time.Now()
	want := pushZonesWith(t, n, 64, "bench", count, 2026030303)
	pushed := time.Since(start)
	dc1.waitConverged(t, want, 10*time.Minute)
	dc2.waitConverged(t, want, 10*time.Minute)
	total := time.Since(start)
	t.Logf("%d zones: HTTP pushes done in %v (%.0f zones/s acknowledged); both databases complete after %v: %.0f zones/s end to end",
		count, pushed.Round(time.Millisecond), float64(count)/pushed.Seconds(), total.Round(time.Millisecond), float64(count)/total.Seconds())
}
