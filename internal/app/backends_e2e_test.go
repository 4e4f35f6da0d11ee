package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/testutil/procstat"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
)

// startLoggedNode is startNodeWith with the child's output in a buffer
// the test may read while the child runs.
func startLoggedNode(t *testing.T, dir string, httpPort int, backends string) (*node, *syncbuf.Buffer) {
	t.Helper()
	cfg := fmt.Sprintf("data_dir: %s\napp:\n  auth_username: da\n  listen_address: 127.0.0.1\n  listen_port: %d\ndns:\n  backends:\n%s",
		filepath.Join(dir, "data"), httpPort, backends)
	cfgPath := filepath.Join(dir, "app.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &syncbuf.Buffer{}
	n := &node{t: t, dir: dir, client: http.DefaultClient, cfgPath: cfgPath,
		httpURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	n.cmd = exec.Command(os.Args[0], "--config", cfgPath, "serve")
	n.cmd.Env = append(os.Environ(), "E2E_DADNS_CHILD=1", "DADNS_APP_AUTH_PASSWORD="+e2ePass)
	n.cmd.Dir = dir
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(n.kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, err := n.request("GET", "/CMD_API_LOGIN_TEST", ""); err == nil && code == 200 {
			return n, out
		}
		select {
		case <-n.exited:
			t.Fatalf("dadns exited at start; output:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dadns did not start; output:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cpuTicks returns the CPU time of process pid and of its children it
// waited for (rndc runs, say), in clock ticks of 1/100 s (USER_HZ).
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	st, err := procstat.Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	return int64((st.Self + st.Children) / (time.Second / 100))
}

// namedDownWindow is how long named stays stopped in
// TestBindNamedDownQuiet: 60 s, the requirement; E2E_NAMED_DOWN_SECONDS
// changes it and -short makes it 10 s.
func namedDownWindow(t *testing.T) time.Duration {
	if s := os.Getenv("E2E_NAMED_DOWN_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("E2E_NAMED_DOWN_SECONDS=%q", s)
		}
		return time.Duration(n) * time.Second
	}
	if testing.Short() {
		return 10 * time.Second
	}
	return time.Minute
}

// TestBindNamedDownQuiet holds 1,000 zones in a bind backend, stops named
// and pushes a new version of every zone: the zones show as failing with
// rndc's error, and for the whole window while named stays down dadns
// stays nearly idle (CPU under 5 % of a core, under 100 log lines). Once
// named runs again every zone converges with nothing done by hand.
func TestBindNamedDownQuiet(t *testing.T) {
	const zones = 1000
	window := namedDownWindow(t)
	r := newBindRig(t)
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n, out := startLoggedNode(t, dir, httpPort, r.backendYAML())
	pushZones(t, n, "q", zones, 1)
	waitServed(t, r.named.Addr, "q", zones, 1, 2*time.Minute)

	linesAtStop := strings.Count(out.String(), "\n")
	r.named.Stop()
	stopped := time.Now()
	pushZones(t, n, "q", zones, 2)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	failing := waitAllFailing(t, st, zones, time.Minute)
	t.Logf("named stopped; %d zones pushed again and shown failing with rndc's error after %v, e.g. %q",
		zones, time.Since(stopped).Round(time.Millisecond), failing)

	pid := n.cmd.Process.Pid
	cpu0, lines0, start := cpuTicks(t, pid), strings.Count(out.String(), "\n"), time.Now()
	time.Sleep(window)
	cpu1, logs, took := cpuTicks(t, pid), out.String(), time.Since(start)
	lines := strings.Count(logs, "\n") - lines0
	cpu := float64(cpu1-cpu0) / 100 / took.Seconds() * 100
	t.Logf("named down for %v: dadns used %.2f%% of a core (%d ticks in %v) and wrote %d log lines",
		took.Round(time.Second), cpu, cpu1-cpu0, took.Round(time.Millisecond), lines)
	window1 := strings.Join(strings.Split(logs, "\n")[lines0:], "\n")
	// Over the whole outage, pushes included, the bind backend's own lines
	// (its worker's and its own) are few too: the pushes log one line each.
	outage := strings.Join(strings.Split(logs, "\n")[linesAtStop:], "\n")
	backendLines := strings.Count(outage, "backend=bind")
	t.Logf("since named stopped (%v ago, %d pushes meanwhile): %d log lines of the bind backend",
		time.Since(stopped).Round(time.Second), zones, backendLines)
	if backendLines >= 100 {
		t.Errorf("%d log lines of the bind backend while named was down; want under 100:\n%s", backendLines, outage)
	}
	if cpu >= 5 {
		t.Errorf("dadns used %.2f%% of a core while named was down; want under 5%%", cpu)
	}
	if lines >= 100 {
		t.Errorf("dadns wrote %d log lines while named was down; want under 100:\n%s", lines, window1)
	}
	waitAllFailing(t, st, zones, time.Second)
	status := statusDoc(t, n)
	t.Logf("/status while down: %s", status)
	if !strings.Contains(status, "rndc") {
		t.Errorf("/status does not show rndc's error: %s", status)
	}

	r.named.Restart(t)
	back := time.Now()
	waitServed(t, r.named.Addr, "q", zones, 2, 3*time.Minute)
	t.Logf("named started again: all %d zones served at their new serial %v later (named reads the files dadns wrote)",
		zones, time.Since(back).Round(time.Millisecond))
	deadline := time.Now().Add(3 * time.Minute)
	for {
		sum, err := st.Summary(context.Background(), "bind")
		if err != nil {
			t.Fatal(err)
		}
		if sum.Applied == zones && sum.Failing+sum.Behind+sum.Permanent == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dadns did not record the zones applied after named came back: %+v", sum)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("dadns recorded all %d zones applied and verified %v after named started", zones, time.Since(back).Round(time.Millisecond))
	if n := strings.Count(out.String(), "backend answers again"); n != 1 {
		t.Errorf("%d recovery log lines, want 1", n)
	}
	if t.Failed() {
		t.Logf("dadns log in the window:\n%s", window1)
	}
}

// waitServed waits until named at addr serves zones "<prefix>N.example"
// with serial, all within timeout.
func waitServed(t *testing.T, addr, prefix string, count int, serial uint32, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	c := &dns.Client{Timeout: 2 * time.Second}
	for i := 0; i < count; {
		name := fmt.Sprintf("%s%d.example", prefix, i)
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
		r, _, err := c.Exchange(m, addr)
		if err == nil && r.Authoritative && len(r.Answer) == 1 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial {
				i++
				continue
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: serial %d not served within %v (%d of %d zones were); last reply %v %v", name, serial, timeout, i, count, r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitAllFailing waits until count zones fail on the bind backend with an
// error that names rndc, and returns one such error.
func waitAllFailing(t *testing.T, st store.Store, count int, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rows, err := st.Troubled(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n, example := 0, ""
		for _, s := range rows {
			if s.Backend == "bind" && s.State == store.StateFailed && strings.Contains(s.LastError, "rndc") {
				n++
				example = s.LastError
			}
		}
		if n == count {
			return example
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d zones shown failing with rndc's error (%d troubled rows)", n, count, len(rows))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// statusDoc returns GET /status.
func statusDoc(t *testing.T, n *node) string {
	t.Helper()
	req, err := http.NewRequest("GET", n.httpURL+"/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("da", e2ePass)
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// instanceKind is one backend type in TestTwoInstancesOfEveryType. A new
// backend type is one entry of everyType.
type instanceKind struct {
	typ string
	// start prepares an instance called name (its own daemon, database or
	// listener) and returns its dns.backends entry (YAML indented four
	// spaces) and a check that it serves zone at serial.
	start func(t *testing.T, h *shared, name string) (yaml string, serves func(zone string, serial uint32) error)
}

// shared holds what instances of one test may share, started on first use.
type shared struct {
	mysqlOnce sync.Once
	mysql     *mariadbtest.Server
}

var everyType = []instanceKind{
	{"builtin", startBuiltinInstance},
	{"bind", startBindInstance},
	{"coredns_mysql", startMySQLInstance},
	{"nsd", startNSDInstance},
	{"knot", startKnotInstance},
	{"powerdns", startPowerDNSInstance},
}

func startBuiltinInstance(t *testing.T, _ *shared, name string) (string, func(string, uint32) error) {
	_, dnsPort := freePorts(t)
	addr := fmt.Sprintf("127.0.0.1:%d", dnsPort)
	return fmt.Sprintf("    %s:\n      type: builtin\n      listen: %s\n", name, addr),
		func(zone string, serial uint32) error { return soaServed(addr, zone, serial) }
}

func startBindInstance(t *testing.T, _ *shared, name string) (string, func(string, uint32) error) {
	r := newBindRig(t)
	yaml := fmt.Sprintf("    %s:\n      type: bind\n      zones_dir: %s\n      named_conf: %s\n      rndc_path: %s\n"+
		"      rndc_conf: %s\n      verify_address: %s\n",
		name, filepath.Join(r.dir, "zones"), filepath.Join(r.dir, "dadns.conf"), filepath.Join(r.dir, "rndc"),
		r.named.RndcConf(), r.named.Addr)
	return yaml, func(zone string, serial uint32) error { return soaServed(r.named.Addr, zone, serial) }
}

func startMySQLInstance(t *testing.T, h *shared, name string) (string, func(string, uint32) error) {
	mariadbtest.Require(t)
	h.mysqlOnce.Do(func() { h.mysql = mariadbtest.Start(t) })
	db := h.mysql.NewDatabase(t) // each instance its own database
	dc := &mysqlDC{name: name, srv: h.mysql, root: h.mysql.Root(t, db)}
	yaml := fmt.Sprintf("    %s:\n      type: coredns_mysql\n      host: 127.0.0.1\n      port: %d\n      database: %s\n"+
		"      username: %s\n      password: %s\n      timeout_seconds: 2\n", name, h.mysql.Port, db, mariadbtest.User, h.mysql.Password)
	return yaml, func(zone string, serial uint32) error {
		got, err := dc.serials()
		if err != nil {
			return err
		}
		if got[zone] != int(serial) {
			return fmt.Errorf("rows hold serial %d", got[zone])
		}
		return nil
	}
}

// soaServed asks addr for the zone's SOA and wants serial, authoritatively.
func soaServed(addr, zone string, serial uint32) error {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		return err
	}
	if r.Authoritative && len(r.Answer) == 1 {
		if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial {
			return nil
		}
	}
	return fmt.Errorf("reply %s aa=%v answers %d", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
}

// TestTwoInstancesOfEveryType starts one dadns with two instances of
// every backend type (each with its own daemon, database or listener),
// pushes a zone and shows every instance serving it, and that /metrics
// still answers.
func TestTwoInstancesOfEveryType(t *testing.T) {
	for typ := range constructors { // a type added to the factory must be added here too
		if !slices.ContainsFunc(everyType, func(k instanceKind) bool { return k.typ == typ }) {
			t.Errorf("backend type %q has no entry in everyType", typ)
		}
	}
	h := &shared{}
	var backends strings.Builder
	type inst struct {
		name   string
		serves func(string, uint32) error
	}
	var all []inst
	for _, k := range everyType {
		for i := 1; i <= 2; i++ {
			name := fmt.Sprintf("%s_%d", k.typ, i)
			yaml, serves := k.start(t, h, name)
			backends.WriteString(yaml)
			all = append(all, inst{name, serves})
		}
	}
	httpPort, _ := freePorts(t)
	n, out := startLoggedNode(t, t.TempDir(), httpPort, backends.String())
	pushZone(t, n, "two.example", e2eZone("two.example", 7))
	for _, in := range all {
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := in.serves("two.example", 7)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not serve the pushed zone: %v\n%s", in.name, err, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("%d instances of %d types each serve the pushed zone", len(all), len(everyType))
	req, _ := http.NewRequest("GET", n.httpURL+"/metrics", nil)
	req.SetBasicAuth("da", e2ePass)
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: HTTP %d %s", resp.StatusCode, body)
	}
	for _, in := range all {
		if !strings.Contains(string(body), fmt.Sprintf(`dadns_backend_up{backend=%q} 1`, in.name)) {
			t.Errorf("/metrics lacks dadns_backend_up 1 for %s", in.name)
		}
		if strings.HasPrefix(in.name, "builtin") &&
			!strings.Contains(string(body), fmt.Sprintf(`dadns_dns_answers_total{backend=%q,rcode="NOERROR"}`, in.name)) {
			t.Errorf("/metrics lacks the answers of %s", in.name)
		}
	}
	var doc struct {
		Backends map[string]json.RawMessage `json:"backends"`
	}
	if err := json.Unmarshal([]byte(statusDoc(t, n)), &doc); err != nil || len(doc.Backends) != len(all) {
		t.Fatalf("/status lists %d backends, want %d (%v)", len(doc.Backends), len(all), err)
	}
}
