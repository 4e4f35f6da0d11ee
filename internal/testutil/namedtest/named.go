// Package namedtest runs a real BIND named for tests: a private instance on
// 127.0.0.1 with free ports, its own directory, configuration and rndc key,
// stopped when the test ends. It also compares DNS replies the way the
// differential tests need.
package namedtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/freeport"
)

// Binaries used by the package; tests skip (or fail under CI=true) when
// named is missing.
const (
	NamedPath = "/usr/sbin/named"
	RndcPath  = "/usr/sbin/rndc"
)

// startTimeout bounds how long Start waits for named to serve every zone.
const startTimeout = 30 * time.Second

// Named is a running named.
type Named struct {
	// Addr is the host:port named answers on, UDP and TCP.
	Addr string
	// ControlAddr is the host:port of its rndc control channel.
	ControlAddr string
	// Dir holds named.conf, the zone files (origin + ".db"), rndc.conf and
	// named's log (named.log).
	Dir string

	cmd     *exec.Cmd
	done    chan error
	include string         // StartWithInclude: the included file
	opts    IncludeOptions // StartWithInclude: its options
	sec     *SecondaryOptions
}

// Require skips the test when named is not installed, or fails it when the
// environment variable CI is "true": CI must run the real daemon.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(NamedPath); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("namedtest: %s missing and CI=true", NamedPath)
	}
	t.Skipf("namedtest: %s not installed", NamedPath)
}

// Start runs named with one primary zone per entry of zones (origin
// without the trailing dot → zone file text) and waits until it answers
// the SOA of every zone. named is stopped when the test ends. The
// configuration is BIND's default except for what a private test instance
// needs: its own ports and files, recursion off (an authoritative-only
// server) and no NOTIFY messages.
func Start(t testing.TB, zones map[string]string) *Named {
	t.Helper()
	Require(t)
	n := &Named{Dir: t.TempDir()}
	n.launch(t, zones)
	if err := n.waitZones(zones); err != nil {
		t.Fatalf("namedtest: start: %v\n%s", err, n.logTail())
	}
	return n
}

// configure picks ports and writes the zone files, named.conf and
// rndc.conf.
func (n *Named) configure(zones map[string]string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cport, err := freePort()
	if err != nil {
		return err
	}
	n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	n.ControlAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(cport))
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	key := base64.StdEncoding.EncodeToString(secret)
	for origin, text := range zones {
		if err := os.WriteFile(filepath.Join(n.Dir, origin+".db"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(n.path("named.conf"), []byte(n.namedConf(zones, port, cport, key)), 0o600); err != nil {
		return err
	}
	return os.WriteFile(n.path("rndc.conf"), []byte(rndcConf(key, cport)), 0o600)
}

func (n *Named) path(name string) string { return filepath.Join(n.Dir, name) }

func (n *Named) namedConf(zones map[string]string, port, cport int, key string) string {
	var b strings.Builder
	transfer := "" // BIND's default for Start's callers
	if n.include != "" {
		transfer = "allow-transfer { none; };"
		if n.opts.AllowTransfer {
			transfer = "allow-transfer { 127.0.0.1; };"
		}
	}
	fmt.Fprintf(&b, "key \"namedtest\" { algorithm hmac-sha256; secret \"%s\"; };\n", key)
	keys := `"namedtest";`
	for _, k := range n.opts.ControlKeys {
		fmt.Fprintf(&b, "key %q { algorithm %s; secret %q; };\n", k.Name, k.Algorithm, k.Secret)
		keys += fmt.Sprintf(" %q;", k.Name)
	}
	fmt.Fprintf(&b, "controls { inet 127.0.0.1 port %d allow { 127.0.0.1; } keys { %s }; };\n", cport, keys)
	fmt.Fprintf(&b, `options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	listen-on port %d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	%s
	%s
};
%s
`, n.Dir, n.path("named.pid"), n.path("session.key"), port, transfer, n.sec.options(), n.sec.statements())
	if n.include != "" {
		fmt.Fprintf(&b, "include %q;\n", n.include)
	}
	origins := make([]string, 0, len(zones))
	for o := range zones {
		origins = append(origins, o)
	}
	sort.Strings(origins)
	for _, o := range origins {
		fmt.Fprintf(&b, "zone %q { type primary; file %q; };\n", o, n.path(o+".db"))
	}
	return b.String()
}

func rndcConf(key string, cport int) string {
	return fmt.Sprintf(`key "namedtest" { algorithm hmac-sha256; secret "%s"; };
options { default-key "namedtest"; default-server 127.0.0.1; default-port %d; };
`, key, cport)
}

// portError means named could not bind a port picked for it: another
// process took it meanwhile, and Start tries other ports.
type portError struct{ err error }

func (e *portError) Error() string { return e.err.Error() }

// run starts named in the foreground and returns once it is running or
// has exited.
func (n *Named) run() error {
	logf, err := os.Create(n.path("named.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	n.cmd = exec.Command(NamedPath, "-g", "-4", "-c", n.path("named.conf"))
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.done = make(chan error, 1)
	go func() { n.done <- n.cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		log, _ := os.ReadFile(n.path("named.log"))
		switch {
		case strings.Contains(string(log), "address in use"):
			n.stop()
			return &portError{fmt.Errorf("named: port taken")}
		case strings.Contains(string(log), "\nrunning") || strings.Contains(string(log), " running\n"):
			return nil
		}
		select {
		case err := <-n.done:
			n.done <- err
			return fmt.Errorf("named exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("named not running after %s", startTimeout)
}

// waitZones waits until named answers the SOA of every zone with AA.
func (n *Named) waitZones(zones map[string]string) error {
	deadline := time.Now().Add(startTimeout)
	for origin := range zones {
		for {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(origin), dns.TypeSOA)
			r, err := n.Exchange(m, "udp")
			if err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) > 0 {
				break
			}
			if log, _ := os.ReadFile(n.path("named.log")); strings.Contains(string(log), "not loaded due to errors") {
				return fmt.Errorf("a zone did not load")
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("zone %s not served (last error %v)", origin, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// Exchange sends m to named over network ("udp" or "tcp") and returns
// the reply. A truncated UDP reply is returned as it is.
func (n *Named) Exchange(m *dns.Msg, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	r, _, err := c.Exchange(m, n.Addr)
	return r, err
}

// Rndc runs rndc against this named with its own key, for example
// Rndc("reload", "example.com").
func (n *Named) Rndc(args ...string) error {
	_, err := n.RndcOutput(args...)
	return err
}

// RndcOutput is Rndc returning what rndc printed, for example
// RndcOutput("zonestatus", "example.com").
func (n *Named) RndcOutput(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, RndcPath, append([]string{"-c", n.path("rndc.conf")}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("namedtest: rndc %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// stop terminates named, killing it if it does not exit in time.
func (n *Named) stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd = nil
}

// logTail returns the end of named's log for failure messages.
func (n *Named) logTail() string {
	b, _ := os.ReadFile(n.path("named.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// ports picks the daemons' ports below the ephemeral range (see
// internal/testutil/freeport), checked free for TCP and UDP.
var ports freeport.Picker

// freePort returns a port free on 127.0.0.1 for TCP and UDP.
func freePort() (int, error) { return ports.Next() }

// ControlKey is a further key named accepts on its control channel.
type ControlKey struct {
	Name, Algorithm, Secret string // Secret in base64
}

// IncludeOptions configure StartWithInclude.
type IncludeOptions struct {
	// ControlKeys are accepted on the control channel beside the key of
	// RndcConf.
	ControlKeys []ControlKey
	// AllowTransfer lets 127.0.0.1 transfer every zone (AXFR).
	AllowTransfer bool
}

// StartWithInclude runs named with no zones of its own and a configuration
// that includes the file at include (created empty when missing), the way
// an operator includes a file dadns writes. Zones appear as they are added
// to the file and named is told with rndc (see RndcConf). named is stopped
// when the test ends.
func StartWithInclude(t testing.TB, include string, opts IncludeOptions) *Named {
	t.Helper()
	Require(t)
	if _, err := os.Stat(include); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(include, nil, 0o644); err != nil {
			t.Fatalf("namedtest: create include: %v", err)
		}
	}
	n := &Named{Dir: t.TempDir(), include: include, opts: opts}
	n.launch(t, nil)
	return n
}

// launch configures and starts named, trying other free ports when the
// chosen ones were taken meanwhile, and stops it when the test ends.
func (n *Named) launch(t testing.TB, zones map[string]string) {
	t.Helper()
	var err error
	for range 5 {
		if err = n.configure(zones); err != nil {
			break
		}
		if err = n.run(); err == nil {
			break
		}
		var bind *portError
		if !errors.As(err, &bind) {
			break
		}
	}
	if err != nil {
		t.Fatalf("namedtest: start: %v\n%s", err, n.logTail())
	}
	t.Cleanup(n.stop)
}

// RndcConf returns the path of the rndc.conf holding this named's control
// address and key, for rndc -c.
func (n *Named) RndcConf() string { return n.path("rndc.conf") }

// Stop stops named; Restart brings it back on the same ports and files.
func (n *Named) Stop() { n.stop() }

// Restart starts a stopped named again with the same configuration.
func (n *Named) Restart(t testing.TB) {
	t.Helper()
	if n.cmd != nil {
		t.Fatal("namedtest: restart of a running named")
	}
	if err := n.run(); err != nil {
		t.Fatalf("namedtest: restart: %v\n%s", err, n.logTail())
	}
}

// Log returns named's log so far.
func (n *Named) Log() string {
	b, _ := os.ReadFile(n.path("named.log"))
	return string(b)
}
