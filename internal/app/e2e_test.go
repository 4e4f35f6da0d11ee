package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
)

// The test binary doubles as the dadns binary: with E2E_DADNS_CHILD set it
// runs app.Main on the remaining arguments, so end-to-end tests can run and
// kill a real server process.
func TestMain(m *testing.M) {
	if os.Getenv("E2E_DADNS_CHILD") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

const e2ePass = "e2e-password-0123"

// node is one dadns process started by a test.
type node struct {
	t       *testing.T
	dir     string
	cmd     *exec.Cmd
	httpURL string
	client  *http.Client
	cfgPath string
	dnsAddr string
	out     *strings.Builder
	exited  chan struct{}
}

// freePorts returns a TCP port for HTTP and a port free for both UDP and
// TCP for DNS, distinct, found by binding them all at once.
func freePorts(t *testing.T) (httpPort, dnsPort int) {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dnsPort = u.LocalAddr().(*net.UDPAddr).Port
		d, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(dnsPort))
		if err != nil {
			u.Close()
			continue
		}
		h, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		httpPort = h.Addr().(*net.TCPAddr).Port
		h.Close()
		d.Close()
		u.Close()
		return httpPort, dnsPort
	}
	t.Fatal("no free ports")
	return 0, 0
}

// startNode runs dadns with a config in dir, the builtin backend on dnsPort.
func startNode(t *testing.T, dir string, httpPort, dnsPort int) *node {
	t.Helper()
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort)
	n := startNodeWith(t, dir, httpPort, backends)
	n.dnsAddr = fmt.Sprintf("127.0.0.1:%d", dnsPort)
	return n
}

// startNodeWith runs dadns with the given dns.backends entries (YAML,
// indented four spaces) and waits until its API answers.
func startNodeWith(t *testing.T, dir string, httpPort int, backends string) *node {
	t.Helper()
	return startNodeApp(t, dir, httpPort, backends, "", "http", http.DefaultClient)
}

// startNodeApp is startNodeWith with extra app keys (YAML, indented two
// spaces) and the scheme and client to reach it.
func startNodeApp(t *testing.T, dir string, httpPort int, backends, appKeys, scheme string, client *http.Client) *node {
	t.Helper()
	n := launchNode(t, dir, httpPort, backends, appKeys, scheme, client)
	n.waitAPI(30 * time.Second)
	return n
}

// launchNode starts dadns like startNodeApp but returns at once, without
// waiting for its API.
func launchNode(t *testing.T, dir string, httpPort int, backends, appKeys, scheme string, client *http.Client) *node {
	t.Helper()
	cfg := fmt.Sprintf("data_dir: %s\napp:\n  auth_username: da\n  listen_address: 127.0.0.1\n  listen_port: %d\n%sdns:\n  backends:\n%s",
		filepath.Join(dir, "data"), httpPort, appKeys, backends)
	cfgPath := filepath.Join(dir, "app.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, dir: dir, out: &strings.Builder{}, client: client, cfgPath: cfgPath,
		httpURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, httpPort)}
	n.cmd = exec.Command(os.Args[0], "--config", cfgPath, "serve")
	n.cmd.Env = append(os.Environ(), "E2E_DADNS_CHILD=1", "DADNS_APP_AUTH_PASSWORD="+e2ePass)
	n.cmd.Dir = dir
	n.cmd.Stdout = n.out
	n.cmd.Stderr = n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() { n.kill() })
	return n
}

// waitAPI waits until the node's API passes the login test, at most within.
func (n *node) waitAPI(within time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if code, _, err := n.request("GET", "/CMD_API_LOGIN_TEST", ""); err == nil && code == 200 {
			return
		}
		select {
		case <-n.exited:
			n.t.Fatalf("dadns exited at start; output:\n%s", n.out)
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("dadns did not start; output:\n%s", n.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *node) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

func (n *node) request(method, target, body string) (int, url.Values, error) {
	req, err := http.NewRequest(method, n.httpURL+target, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth("da", e2ePass)
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	v, err := url.ParseQuery(string(raw))
	return resp.StatusCode, v, err
}

func e2eZone(name string, serial int) string {
	return fmt.Sprintf("$TTL 3600\n@ IN SOA ns1.%[1]s. hostmaster.%[1]s. %[2]d 3600 3600 1209600 86400\n"+
		"%[1]s.\t3600\tIN\tNS\tns1.%[1]s.\nns1\t3600\tIN\tA\t192.0.2.1\nwww\t3600\tIN\tA\t192.0.2.%[3]d\n"+
		"%[1]s.\t3600\tIN\tTXT\t\"serial %[2]d\"\n", name, serial, serial%250+1)
}

// TestKillAfterAckLosesNothing pushes zones and SIGKILLs the server right
// after its last error=0: every acknowledged push must be in the store, and
// served by the builtin backend once the server is back.
func TestKillAfterAckLosesNothing(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	acked := map[string]int{}
	for i := 0; i < 60; i++ {
		name := fmt.Sprintf("z%d.kill.example", i%40) // some zones pushed twice
		serial := 2026010100 + i
		q := url.Values{"action": {"rawsave"}, "domain": {name}, "hostname": {"da1.example"}}
		code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), e2eZone(name, serial))
		if err != nil || code != 200 || v.Get("error") != "0" {
			t.Fatalf("push %s: %d %v %v", name, code, v, err)
		}
		acked[name] = serial
	}
	// Delete one acknowledged zone too, then kill at once.
	code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN", "action=delete&hostname=da1.example&select0=z0.kill.example")
	if err != nil || code != 200 || v.Get("error") != "0" {
		t.Fatalf("delete: %d %v %v", code, v, err)
	}
	delete(acked, "z0.kill.example")
	n.kill()

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, serial := range acked {
		z, err := st.Get(context.Background(), name)
		if err != nil {
			t.Fatalf("acknowledged zone %s lost: %v", name, err)
		}
		if z.Serial != uint32(serial) {
			t.Fatalf("zone %s: serial %d, acknowledged %d", name, z.Serial, serial)
		}
	}
	if _, err := st.Get(context.Background(), "z0.kill.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("acknowledged delete lost: %v", err)
	}
	st.Close()

	// Restarted, the node serves every acknowledged zone over DNS.
	n2 := startNode(t, dir, httpPort, dnsPort)
	for name, serial := range acked {
		waitSOASerial(t, n2.dnsAddr, name, uint32(serial))
	}
	m := new(dns.Msg)
	m.SetQuestion("z0.kill.example.", dns.TypeSOA)
	r, err := dns.Exchange(m, n2.dnsAddr)
	if err != nil || r.Rcode != dns.RcodeRefused {
		t.Fatalf("deleted zone still answered: %v %v", r, err)
	}
}

// waitSOASerial polls the DNS server until it serves the zone's serial.
func waitSOASerial(t *testing.T, addr, name string, serial uint32) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
		r, err := dns.Exchange(m, addr)
		if err == nil && len(r.Answer) == 1 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial && r.Authoritative {
				return
			}
		}
		last = fmt.Sprint(r, err)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: serial %d not served; last reply %s", name, serial, last)
}

// TestDefaultRunServesPush is the README's walk-through: dadns with no
// config file, a push with the generated password, then a DNS query.
func TestDefaultRunServesPush(t *testing.T) {
	if ok, err := portFree(2222, 5353); !ok {
		t.Skipf("default ports in use: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "E2E_DADNS_CHILD=1")
	cmd.Dir = dir
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	pass := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && pass == "" {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "password:" {
			pass = f[1]
		}
	}
	go io.Copy(io.Discard, stdout)
	if pass == "" {
		t.Fatal("no generated password printed")
	}
	stored, err := os.ReadFile(filepath.Join(dir, "data", passwordFile))
	if err != nil || strings.TrimSpace(string(stored)) != pass {
		t.Fatalf("generated password not kept: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "data", passwordFile)); st.Mode().Perm() != 0o600 {
		t.Fatalf("password file mode %v", st.Mode().Perm())
	}
	var resp *http.Response
	for i := 0; i < 200; i++ {
		req, _ := http.NewRequest("POST", "http://127.0.0.1:2222/CMD_API_DNS_ADMIN?action=rawsave&domain=readme.example&hostname=da1",
			strings.NewReader(e2eZone("readme.example", 7)))
		req.SetBasicAuth("directdnsonly", pass)
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("push: %v %v", resp, err)
	}
	resp.Body.Close()
	waitSOASerial(t, "127.0.0.1:5353", "readme.example", 7)
}

func portFree(tcp, udp int) (bool, error) {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(tcp))
	if err != nil {
		return false, err
	}
	l.Close()
	c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(udp))
	if err != nil {
		return false, err
	}
	c.Close()
	return true, nil
}
