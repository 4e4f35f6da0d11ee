package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLIAgainstRunningServer drives `dadns status` and `dadns zones ...`
// against a real server process.
func TestCLIAgainstRunningServer(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	for _, z := range []string{"cli-a.example", "cli-b.example"} {
		q := url.Values{"action": {"rawsave"}, "domain": {z}, "hostname": {"da1.example"}, "username": {"carol"}}
		if code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), e2eZone(z, 5)); err != nil || code != 200 {
			t.Fatalf("push %s: %d %v %v", z, code, v, err)
		}
		waitSOASerial(t, n.dnsAddr, z, 5)
	}
	t.Setenv("DADNS_APP_AUTH_PASSWORD", e2ePass)
	cli := func(args ...string) (int, string) {
		code, out, errs := runMain(t, append([]string{"--config", n.cfgPath}, args...)...)
		return code, out + errs
	}
	if code, out := cli("status"); code != 0 || !strings.Contains(out, `"status": "ok"`) || !strings.Contains(out, `"builtin"`) {
		t.Fatalf("status: %d\n%s", code, out)
	}
	if code, out := cli("zones", "list"); code != 0 || !strings.Contains(out, "cli-a.example") || !strings.Contains(out, "da1.example/carol") {
		t.Fatalf("zones list: %d\n%s", code, out)
	}
	if code, out := cli("zones", "list", "--failing"); code != 0 || strings.Contains(out, "cli-a.example") {
		t.Fatalf("zones list --failing: %d\n%s", code, out)
	}
	if code, out := cli("zones", "show", "cli-a.example"); code != 0 || !strings.Contains(out, "builtin  applied") || !strings.Contains(out, "SOA") {
		t.Fatalf("zones show: %d\n%s", code, out)
	}
	if code, out := cli("zones", "resync", "cli-a.example"); code != 0 || !strings.Contains(out, `"version":2`) {
		t.Fatalf("zones resync: %d\n%s", code, out)
	}
	if code, out := cli("zones", "resync", "--all"); code != 0 || !strings.Contains(out, `"resynced":2`) {
		t.Fatalf("zones resync --all: %d\n%s", code, out)
	}
	if code, out := cli("zones", "delete", "cli-b.example"); code != 0 {
		t.Fatalf("zones delete: %d\n%s", code, out)
	}
	if code, out := cli("zones", "show", "cli-b.example"); code != 1 || !strings.Contains(out, "not held") {
		t.Fatalf("show deleted zone: %d\n%s", code, out)
	}
	if code, _ := cli("zones", "frob"); code != 2 {
		t.Fatalf("bad zones subcommand: %d", code)
	}
	t.Setenv("DADNS_APP_AUTH_PASSWORD", "wrong")
	if code, out := cli("status"); code != 1 || !strings.Contains(out, "401") {
		t.Fatalf("wrong password: %d\n%s", code, out)
	}
}

// writeCert writes a fresh self-signed certificate for 127.0.0.1.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "dadns test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	// Key first: a reader that sees the new certificate must find its key.
	if err := os.WriteFile(keyFile+".new", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile+".new", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Rename(keyFile+".new", keyFile)
	os.Rename(certFile+".new", certFile)
}

// servedSerial returns the serial number of the certificate served at addr.
func servedSerial(t *testing.T, addr string) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func waitServedSerial(t *testing.T, addr string, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for servedSerial(t, addr) != want {
		if time.Now().After(deadline) {
			t.Fatalf("certificate %d never served", want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTLSServesAndReloads(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	httpPort, dnsPort := freePorts(t)
	appKeys := fmt.Sprintf("  ssl_enable: true\n  ssl_cert: %s\n  ssl_key: %s\n", certFile, keyFile)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	n := startNodeApp(t, dir, httpPort, backends, appKeys, "https", client)
	addr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	if got := servedSerial(t, addr); got != 1 {
		t.Fatalf("serves certificate %d", got)
	}
	// A renewed certificate on disk is picked up by itself...
	time.Sleep(1100 * time.Millisecond) // modification times must differ
	writeCert(t, certFile, keyFile, 2)
	waitServedSerial(t, addr, 2)
	// ...and on SIGHUP.
	writeCert(t, certFile, keyFile, 3)
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitServedSerial(t, addr, 3)
	// Plain HTTP is not served on the TLS port.
	if resp, err := http.Get("http://" + addr + "/CMD_API_LOGIN_TEST"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP answered on the TLS port")
	}
	if code, v, err := n.request("GET", "/CMD_API_LOGIN_TEST", ""); err != nil || code != 200 || v.Get("error") != "0" {
		t.Fatalf("login test over TLS: %d %v %v", code, v, err)
	}
}

// TestSIGHUPWithoutTLSKeepsRunning: service managers send SIGHUP to reload;
// without TLS that must not stop the process.
func TestSIGHUPWithoutTLSKeepsRunning(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case <-n.exited:
		t.Fatalf("SIGHUP stopped dadns:\n%s", n.out)
	default:
	}
	if code, _, err := n.request("GET", "/CMD_API_LOGIN_TEST", ""); err != nil || code != 200 {
		t.Fatalf("after SIGHUP: %d %v", code, err)
	}
}
