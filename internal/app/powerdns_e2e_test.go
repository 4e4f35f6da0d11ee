package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend/powerdns"
	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/pdnstest"
	"github.com/dadns/dadns/internal/zone"
)

// topologyB is one data centre of Topology B on loopback: dadns writes the
// MariaDB primary, a second mariadbd replicates it (GTID, async), and a
// pdns_server reads the replica.
type topologyB struct {
	primary, replica *mariadbtest.Server
	pdns             *pdnstest.Server
}

func startTopologyB(t *testing.T) *topologyB {
	t.Helper()
	mariadbtest.Require(t)
	pdnstest.Require(t)
	tb := &topologyB{primary: mariadbtest.StartPrimary(t)}
	tb.replica = mariadbtest.StartReplica(t, tb.primary, 2)
	if err := tb.primary.CreateDatabase("pdns"); err != nil {
		t.Fatal(err)
	}
	// The schema, as dadns creates it on first use, so that PowerDNS
	// starts on complete tables.
	b, err := powerdns.New(powerdns.Options{Host: tb.primary.Host, Port: tb.primary.Port, Database: "pdns",
		Username: mariadbtest.User, Password: tb.primary.Password})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := b.Zones(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tb.replica.WaitCaughtUp(ctx, tb.primary); err != nil {
		t.Fatal(err)
	}
	tb.pdns = pdnstest.Start(t, pdnstest.Options{DB: pdnstest.DB{Host: tb.replica.Host, Port: tb.replica.Port,
		Name: "pdns", User: mariadbtest.User, Password: tb.replica.Password}})
	return tb
}

// backendYAML is the dns.backends entry writing the primary.
func (tb *topologyB) backendYAML(name string) string {
	return fmt.Sprintf("    %s:\n      type: powerdns\n      host: 127.0.0.1\n      port: %d\n      database: pdns\n"+
		"      username: %s\n      password: %s\n      timeout_seconds: 2\n", name, tb.primary.Port, mariadbtest.User, tb.primary.Password)
}

// servedSerials asks the replica's PowerDNS for each zone's SOA serial
// (0: not served).
func servedSerials(addr string, names []string) map[string]int {
	out := make(map[string]int, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Timeout: 2 * time.Second}
			for name := range work {
				serial := 0
				m := new(dns.Msg)
				m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
				if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) == 1 {
					if soa, ok := r.Answer[0].(*dns.SOA); ok {
						serial = int(soa.Serial)
					}
				}
				mu.Lock()
				out[name] = serial
				mu.Unlock()
			}
		}()
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	return out
}

// waitPDNSServed waits until PowerDNS serves exactly the serials in want (0:
// the zone must not be served).
func waitPDNSServed(t *testing.T, addr string, want map[string]int, timeout time.Duration) {
	t.Helper()
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	deadline := time.Now().Add(timeout)
	for {
		got := servedSerials(addr, names)
		bad := 0
		var example string
		for n, s := range want {
			if got[n] != s {
				bad++
				example = fmt.Sprintf("%s serves %d, want %d", n, got[n], s)
			}
		}
		if bad == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PowerDNS on the replica did not converge in %v: %d of %d zones differ (%s)", timeout, bad, len(want), example)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPowerDNSTopologyB pushes the differential corpus through the HTTP
// API of a dadns writing a MariaDB primary, and compares what the
// PowerDNS reading the replica serves with a named loading the original
// files. Then it changes and deletes zones and measures push-to-served.
func TestPowerDNSTopologyB(t *testing.T) {
	namedtest.Require(t)
	tb := startTopologyB(t)
	httpPort, _ := freePorts(t)
	// dadns verifies each apply against the PowerDNS on the replica: the
	// serial must come through replication within the verify timeout.
	n := startNodeWith(t, t.TempDir(), httpPort, tb.backendYAML("powerdns_dc1")+
		fmt.Sprintf("      verify_address: %s\n      verify_timeout_seconds: 10\n", tb.pdns.Addr))

	files, err := filepath.Glob(filepath.Join("..", "dnsserver", "testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	texts, serials := map[string]string{}, map[string]int{}
	var zones []dnsdiff.Zone
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		origin := strings.TrimSuffix(filepath.Base(f), ".db")
		code, v := pushText(t, n, origin, string(b))
		if _, refused := refusedCorpusZones[origin]; refused {
			if code != 400 {
				t.Errorf("%s: accepted, expected a refusal", origin)
			}
			continue
		}
		if code != 200 || v.Get("error") != "0" {
			t.Fatalf("push %s: HTTP %d %v", origin, code, v)
		}
		z, err := zone.Parse(zone.Name(origin), b, zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		texts[origin] = withoutIncludes(string(b))
		zones = append(zones, dnsdiff.Zone{Origin: z.Name.FQDN(), RRs: z.RRs()})
		serials[origin] = int(z.Serial)
	}
	waitPDNSServed(t, tb.pdns.Addr, serials, 60*time.Second)
	waitVerified(t, n, len(serials))

	named := namedtest.Start(t, texts)
	ps := dnsdiff.Probes(zones)
	res := pdnstest.Compare(ps, named.Addr, tb.pdns.Addr)
	t.Logf("%d zones pushed over HTTP, served by PowerDNS from the replica: %d probes, %d identical, %d differ as documented, %d differ otherwise",
		len(zones), res.Probes, res.Same, res.Probes-res.Same-len(res.Unexplained), len(res.Unexplained))
	reasons := slices.Sorted(func(yield func(string) bool) {
		for r := range res.Explained {
			if !yield(r) {
				return
			}
		}
	})
	for _, r := range reasons {
		t.Logf("%5d: %s", res.Explained[r], r)
	}
	for i, f := range res.Unexplained {
		if i == 30 {
			t.Errorf("... and %d more", len(res.Unexplained)-i)
			break
		}
		t.Error(f)
	}

	// A changed zone and a deleted one: no stale answers from the replica.
	changed := strings.Replace(texts["example.org"], "2025031402", "2025031403", 1)
	changed = strings.Replace(changed, "192.0.2.10", "192.0.2.77", -1)
	if code, v := pushText(t, n, "example.org", changed); code != 200 || v.Get("error") != "0" {
		t.Fatalf("push changed example.org: %d %v", code, v)
	}
	if code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN", "action=delete&hostname=da1.example&select0=parent.test"); err != nil || code != 200 || v.Get("error") != "0" {
		t.Fatalf("delete parent.test: %d %v %v", code, v, err)
	}
	serials["example.org"], serials["parent.test"] = 2025031403, 0
	waitPDNSServed(t, tb.pdns.Addr, serials, 30*time.Second)
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	r, err := tb.pdns.Exchange(m, "udp")
	if err != nil || len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), "192.0.2.77") {
		t.Fatalf("changed record not served: %v %v", r, err)
	}
	m.SetQuestion("parent.test.", dns.TypeSOA)
	if r, err := tb.pdns.Exchange(m, "udp"); err != nil || r.Rcode != dns.RcodeRefused {
		t.Fatalf("deleted zone still answered: %v %v", r, err)
	}

	lat := pushToServed(t, n, tb.pdns.Addr, 21)
	t.Logf("push-to-served through the primary, replication and PowerDNS (no caches): median %v, min %v, max %v over %d pushes",
		lat[len(lat)/2], lat[0], lat[len(lat)-1], len(lat))
	n.kill()
	if strings.Contains(n.out.String(), "panic") {
		t.Fatalf("dadns panicked:\n%s", n.out)
	}
}

func pushText(t *testing.T, n *node, origin, text string) (int, url.Values) {
	t.Helper()
	q := url.Values{"action": {"rawsave"}, "domain": {origin}, "hostname": {"da1.example"}, "username": {"u"}}
	code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), text)
	if err != nil {
		t.Fatal(err)
	}
	return code, v
}

// pushToServed pushes a zone count times, each time with a new serial,
// and measures from the start of the HTTP request until PowerDNS answers
// the new serial. The durations come back sorted.
func pushToServed(t *testing.T, n *node, addr string, count int) []time.Duration {
	t.Helper()
	var out []time.Duration
	for i := range count {
		name, serial := "latency.example", 2026050100+i
		start := time.Now()
		if code, v := pushText(t, n, name, e2eZone(name, serial)); code != 200 || v.Get("error") != "0" {
			t.Fatalf("push: %d %v", code, v)
		}
		for {
			if servedSerials(addr, []string{name})[name] == serial {
				break
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("serial %d not served after 30s", serial)
			}
			time.Sleep(time.Millisecond)
		}
		out = append(out, time.Since(start))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TestPowerDNSTopologyBOutages stops the replica, then the primary in the
// middle of a burst of pushes: nothing acknowledged is lost, and PowerDNS
// on the replica converges with no operator action (dadns probes the
// primary and applies again once it answers; the replica reconnects by
// itself).
func TestPowerDNSTopologyBOutages(t *testing.T) {
	tb := startTopologyB(t)
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, t.TempDir(), httpPort, tb.backendYAML("powerdns_dc1"))

	want := pushZones(t, n, "a", 120, 2026010101)
	waitPDNSServed(t, tb.pdns.Addr, want, 60*time.Second)

	// The replica stops: dadns keeps writing the primary; once the replica
	// is back it catches up and PowerDNS serves the new state.
	tb.replica.Stop()
	merge(want, pushZones(t, n, "a", 120, 2026020202))
	merge(want, pushZones(t, n, "b", 60, 2026020202))
	if err := tb.replica.Restart(); err != nil {
		t.Fatal(err)
	}
	waitPDNSServed(t, tb.pdns.Addr, want, 60*time.Second)

	// The primary stops part-way through a burst.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		names := make([]string, 0, 120)
		for i := range 120 {
			names = append(names, fmt.Sprintf("a%d.example", i))
		}
		for range 600 {
			if countSerial(servedSerials(tb.pdns.Addr, names), 2026030303) >= 20 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		tb.primary.Stop()
	}()
	merge(want, pushZones(t, n, "a", 120, 2026030303))
	merge(want, pushZones(t, n, "c", 80, 2026030303))
	<-stopped
	got := servedSerials(tb.pdns.Addr, []string{"c79.example"})
	t.Logf("primary stopped with %d of 120 a-zones already served at the new serial; c79 serves %d",
		countSerial(servedSerials(tb.pdns.Addr, keys(want, "a")), 2026030303), got["c79.example"])
	time.Sleep(2 * time.Second)
	if err := tb.primary.Restart(); err != nil {
		t.Fatal(err)
	}
	waitPDNSServed(t, tb.pdns.Addr, want, 150*time.Second)
	if st, err := tb.replica.ReplicaStatus(); err != nil || !strings.Contains(st, "Slave_IO_Running=Yes") {
		t.Fatalf("replication after the primary's restart: %s %v", st, err)
	}
	n.kill()
	if strings.Contains(n.out.String(), "panic") {
		t.Fatalf("dadns panicked:\n%s", n.out)
	}
}

func merge(dst, src map[string]int) {
	for k, v := range src {
		dst[k] = v
	}
}

func keys(m map[string]int, prefix string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// pdnsSerials returns zone → SOA serial as a PowerDNS database holds them.
func pdnsSerials(d *mysqlDC) (map[string]int, error) {
	rs, err := d.root.Query(`SELECT d.name, r.content FROM domains d JOIN records r ON r.domain_id = d.id
WHERE r.type = 'SOA' AND r.name = d.name AND r.disabled = 0`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]int{}
	for rs.Next() {
		var name, content string
		if err := rs.Scan(&name, &content); err != nil {
			return nil, err
		}
		var serial int
		if f := strings.Fields(content); len(f) == 7 {
			fmt.Sscan(f[2], &serial)
		}
		out[name] = serial
	}
	return out, rs.Err()
}

// TestPowerDNSThroughput pushes 10,000 zones through the HTTP API into a
// dadns with two powerdns instances (each its own mariadbd) and reports
// zones/s from the first push until both databases hold every zone. A
// measurement, run on demand:
// POWERDNS_BENCH=1 go test -run PowerDNSThroughput -v ./internal/app
func TestPowerDNSThroughput(t *testing.T) {
	if os.Getenv("POWERDNS_BENCH") == "" || testing.Short() {
		t.Skip("a measurement: set POWERDNS_BENCH=1 (or a zone count) to run it")
	}
	mariadbtest.Require(t)
	count := 10000
	if v, err := fmt.Sscan(os.Getenv("POWERDNS_BENCH"), &count); v != 1 || err != nil || count < 2 {
		count = 10000
	}
	dc1, dc2 := startDC(t, "pdns_dc1"), startDC(t, "pdns_dc2")
	yaml := ""
	for _, d := range []*mysqlDC{dc1, dc2} {
		yaml += strings.Replace(d.backendYAML(), "type: coredns_mysql", "type: powerdns", 1)
	}
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, t.TempDir(), httpPort, yaml)
	start := time.Now()
	want := pushZonesWith(t, n, 64, "bench", count, 2026030303)
	pushed := time.Since(start)
	for _, d := range []*mysqlDC{dc1, dc2} {
		deadline := time.Now().Add(10 * time.Minute)
		for {
			got, err := pdnsSerials(d)
			if err == nil && len(got) == len(want) && countSerial(got, 2026030303) == len(want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d zones after 10 minutes (%v)", d.name, countSerial(got, 2026030303), len(want), err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	total := time.Since(start)
	t.Logf("%d zones: HTTP pushes done in %v (%.0f zones/s acknowledged); both PowerDNS databases complete after %v: %.0f zones/s end to end",
		count, pushed.Round(time.Millisecond), float64(count)/pushed.Seconds(), total.Round(time.Millisecond), float64(count)/total.Seconds())
}

// waitVerified polls /status until the powerdns backend has applied and
// verified n zones with none behind or failing.
func waitVerified(t *testing.T, n *node, count int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", n.httpURL+"/status", nil)
		req.SetBasicAuth("da", e2ePass)
		resp, err := n.client.Do(req)
		if err == nil {
			var doc struct {
				Backends map[string]struct {
					Applied, Behind, Failing, Permanent int
					LastError                           string `json:"last_error"`
				} `json:"backends"`
			}
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			b := doc.Backends["powerdns_dc1"]
			if err == nil && b.Applied == count && b.Behind == 0 && b.Failing == 0 && b.Permanent == 0 {
				return
			}
			last = fmt.Sprintf("%+v %v", b, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("powerdns_dc1 not applied and verified on %d zones: %s", count, last)
}

// startPowerDNSInstance is TestTwoInstancesOfEveryType's powerdns
// instance: its own database on the shared mariadbd, read by its own
// pdns_server, which dadns verifies against.
func startPowerDNSInstance(t *testing.T, h *shared, name string) (string, func(string, uint32) error) {
	mariadbtest.Require(t)
	pdnstest.Require(t)
	h.mysqlOnce.Do(func() { h.mysql = mariadbtest.Start(t) })
	db := h.mysql.NewDatabase(t)
	b, err := powerdns.New(powerdns.Options{Host: h.mysql.Host, Port: h.mysql.Port, Database: db,
		Username: mariadbtest.User, Password: h.mysql.Password})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Zones(t.Context()); err != nil { // the schema, for PowerDNS to start on
		t.Fatal(err)
	}
	p := pdnstest.Start(t, pdnstest.Options{DB: pdnstest.DB{Host: h.mysql.Host, Port: h.mysql.Port, Name: db,
		User: mariadbtest.User, Password: h.mysql.Password}})
	yaml := fmt.Sprintf("    %s:\n      type: powerdns\n      host: 127.0.0.1\n      port: %d\n      database: %s\n"+
		"      username: %s\n      password: %s\n      timeout_seconds: 2\n      verify_address: %s\n",
		name, h.mysql.Port, db, mariadbtest.User, h.mysql.Password, p.Addr)
	return yaml, func(zone string, serial uint32) error { return soaServed(p.Addr, zone, serial) }
}
