package ui_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/app"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
)

const (
	daUser, daPass       = "da", "da-password-0123"
	adminUser, adminPass = "ops", "ops-password-0123"
)

// node is a dadns server running in this process.
type node struct {
	t    *testing.T
	url  string
	dns  string // the builtin backend's DNS address
	dead string // the address of a database nobody listens on
	log  *syncbuf.Buffer
}

// freePort returns a port free for TCP (and UDP when udp is set).
func freePort(t *testing.T, udp bool) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if udp {
			u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				l.Close()
				continue
			}
			u.Close()
		}
		l.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// startNode runs dadns with a builtin backend, a coredns_mysql backend
// whose database address answers nothing (every apply there fails), and
// extra app keys (YAML, indented two spaces) and top-level sections. It
// stops at the test's end.
func startNode(t *testing.T, appKeys string, topKeys ...string) *node {
	t.Helper()
	dir := t.TempDir()
	httpPort, dnsPort, deadPort := freePort(t, false), freePort(t, true), freePort(t, false)
	n := &node{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", httpPort), dns: fmt.Sprintf("127.0.0.1:%d", dnsPort),
		dead: fmt.Sprintf("127.0.0.1:%d", deadPort), log: &syncbuf.Buffer{}}
	yml := fmt.Sprintf(`data_dir: %s
log_level: warning
app:
  auth_username: %s
  auth_password: %s
  listen_address: 127.0.0.1
  listen_port: %d
%sdns:
  backends:
    builtin:
      type: builtin
      listen: 127.0.0.1:%d
    dc2:
      type: coredns_mysql
      host: 127.0.0.1
      port: %d
      database: coredns
      username: coredns
      password: secret
      timeout_seconds: 2
`, filepath.Join(dir, "data"), daUser, daPass, httpPort, appKeys, dnsPort, deadPort) + strings.Join(topKeys, "")
	path := filepath.Join(dir, "app.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{File: path, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, io.Discard, n.log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("dadns did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(n.url + "/CMD_API_LOGIN_TEST")
		if err == nil {
			resp.Body.Close()
			return n
		}
		select {
		case err := <-done:
			t.Fatalf("dadns stopped at start: %v\n%s", err, n.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dadns did not start:\n%s", n.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// zoneText is a zone as DirectAdmin pushes it; txt is the TXT record's
// text at www.
func zoneText(name string, serial int, txt string) string {
	return fmt.Sprintf("$TTL 3600\n@ IN SOA ns1.%[1]s. hostmaster.%[1]s. %[2]d 3600 3600 1209600 86400\n"+
		"%[1]s.\t3600\tIN\tNS\tns1.%[1]s.\nns1\t3600\tIN\tA\t192.0.2.1\nwww\t300\tIN\tA\t192.0.2.80\n"+
		"www\t300\tIN\tTXT\t%[3]q\nmail\t3600\tIN\tMX\t10 mx.%[1]s.\n", name, serial, txt)
}

// push saves a zone through DirectAdmin's API.
func (n *node) push(name, body, host string) {
	n.t.Helper()
	q := url.Values{"action": {"rawsave"}, "domain": {name}, "hostname": {host}, "username": {"alice"}}
	req, _ := http.NewRequest("POST", n.url+"/CMD_API_DNS_ADMIN?"+q.Encode(), strings.NewReader(body))
	req.SetBasicAuth(daUser, daPass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "error=0") {
		n.t.Fatalf("push %s: %d %s", name, resp.StatusCode, raw)
	}
}

// pushMany pushes count zones named zone-NNNN.example with 8 clients.
func (n *node) pushMany(count int) {
	n.t.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := fmt.Sprintf("zone-%04d.example", i)
				n.push(name, zoneText(name, 2026010100+i%7, "hello"), fmt.Sprintf("da%d.example.net", i%3+1))
			}
		}()
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
}

// do sends a request with the given credentials (none when user is "").
func (n *node) do(method, path, user, pass string, form url.Values, header http.Header) (*http.Response, string) {
	n.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, n.url+path, body)
	if err != nil {
		n.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// admin is do with the admin credentials.
func (n *node) admin(method, path string, form url.Values, header http.Header) (*http.Response, string) {
	n.t.Helper()
	return n.do(method, path, adminUser, adminPass, form, header)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const adminKeys = "  admin_username: " + adminUser + "\n  admin_password: " + adminPass + "\n"
