package app

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// knotSecondary runs a knotd (Debian's Knot 3.2) whose only configured
// zone is the catalog of the primary at primary (host@port), interpreted
// into member zones with the "member" template. Stopped when the test ends.
func knotSecondary(t *testing.T, primary string) string {
	t.Helper()
	const knotd = "/usr/sbin/knotd"
	if _, err := os.Stat(knotd); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing and CI=true", knotd)
		}
		t.Skipf("%s not installed", knotd)
	}
	dir := t.TempDir()
	sock, err := os.MkdirTemp("", "kns")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	for attempt := 0; ; attempt++ {
		l, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.LocalAddr().(*net.UDPAddr).Port
		l.Close()
		conf := fmt.Sprintf(`server:
    rundir: %[1]q
    listen: 127.0.0.1@%[2]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: %[1]q
control:
    listen: %[3]q
log:
  - target: stderr
    any: info
key:
  - id: %[4]s
    algorithm: hmac-sha256
    secret: %[5]s
remote:
  - id: primary
    address: %[6]s
    key: %[4]s
acl:
  - id: from-primary
    address: 127.0.0.1
    key: %[4]s
    action: notify
template:
  - id: default
    storage: %[1]q
    zonefile-sync: -1
    journal-content: changes
  - id: member
    storage: %[1]q
    master: primary
    acl: from-primary
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: %[7]s
    master: primary
    acl: from-primary
    catalog-role: interpret
    catalog-template: member
`, dir, port, filepath.Join(sock, "knot.sock"), secKey, secSecret, primary, secCat)
		confPath := filepath.Join(dir, "knot.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(dir, "knotd.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(knotd, "-c", confPath)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			if t.Failed() {
				b, _ := os.ReadFile(filepath.Join(dir, "knotd.log"))
				t.Logf("knotd log:\n%s", tailLines(string(b), 40))
			}
		})
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "knotd.log"))
			log := string(b)
			if strings.Contains(log, "server started") {
				return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			}
			if strings.Contains(strings.ToLower(log), "address already in use") && attempt < 5 {
				<-done
				break
			}
			select {
			case <-done:
				b, _ := os.ReadFile(filepath.Join(dir, "knotd.log"))
				if strings.Contains(strings.ToLower(string(b)), "address already in use") && attempt < 5 {
					continue
				}
				t.Fatalf("knotd exited:\n%s", b)
			case <-time.After(50 * time.Millisecond):
			}
		}
		if attempt >= 5 {
			t.Fatal("knotd did not start")
		}
	}
}

// TestKnotSecondaryThroughCatalog: Knot, configured with only the catalog
// zone, serves a zone pushed to dadns, its change after NOTIFY, and drops
// it after its delete.
func TestKnotSecondaryThroughCatalog(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	sec := knotSecondary(t, fmt.Sprintf("127.0.0.1@%d", dnsPort))
	backends := fmt.Sprintf(`    builtin:
      type: builtin
      listen: 127.0.0.1:%d
transfers:
  allow: [%s]
  tsig_keys:
    - name: %s
      secret: %s
  notify: ["%s"]
  notify_key: %s
  catalog_zone: %s
`, dnsPort, secKey, secKey, secSecret, sec, secKey, secCat)
	n := startNodeWith(t, dir, httpPort, backends)
	h := &hiddenPrimary{node: n}
	h.push(t, "knot-a.example", e2eZone("knot-a.example", 1))
	took := waitSecondary(t, sec, "knot-a.example", 1, 60*time.Second)
	t.Logf("new zone served by the Knot secondary %s after the push", took.Round(time.Millisecond))
	h.push(t, "knot-a.example", e2eZone("knot-a.example", 2))
	took = waitSecondary(t, sec, "knot-a.example", 2, 30*time.Second)
	t.Logf("changed zone served by the Knot secondary %s after the push", took.Round(time.Millisecond))
	code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN", "action=delete&cluster=yes&hostname=da1.example&select0=knot-a.example")
	if err != nil || code != 200 || v.Get("error") != "0" {
		t.Fatalf("delete: %d %v %v", code, v, err)
	}
	waitSecondary(t, sec, "knot-a.example", 0, 60*time.Second)
}
