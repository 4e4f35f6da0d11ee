// Package knottest runs a real Knot DNS knotd for tests: a private instance
// on 127.0.0.1 with a free port, its own directory, database and control
// socket, stopped when the test ends.
package knottest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/freeport"
)

// Binaries used by the package; tests skip (or fail under CI=true) when
// knotd is missing.
const (
	KnotdPath = "/usr/sbin/knotd"
	KnotcPath = "/usr/sbin/knotc"
)

// startTimeout bounds how long Start waits for knotd to answer on its
// control socket.
const startTimeout = 30 * time.Second

// Options configure Start.
type Options struct {
	// ZonesDir is the default template's storage: zones configured at run
	// time with only a domain load <ZonesDir>/<zone>.zone. Empty: a
	// directory of the instance.
	ZonesDir string
	// AllowTransfer lets 127.0.0.1 transfer every zone (AXFR).
	AllowTransfer bool
	// Zones are configured in knot.conf: origin (no trailing dot) → path
	// of its zone file.
	Zones map[string]string
	// ExtraTemplate, when set, adds a template with this id whose storage
	// is ZonesDir and whose file is "%s.zone".
	ExtraTemplate string
	// DefaultStorage overrides the default template's storage (ZonesDir
	// otherwise).
	DefaultStorage string
}

// Knot is a running knotd.
type Knot struct {
	// Addr is the host:port knotd answers on, UDP and TCP.
	Addr string
	// Socket is the path of its control socket (knotc -s).
	Socket string
	// Dir holds knot.conf, its database and its log (knotd.log).
	Dir string
	// ZonesDir is the default template's storage.
	ZonesDir string

	opt  Options
	cmd  *exec.Cmd
	done chan error
}

// Require skips the test when knotd is not installed, or fails it when the
// environment variable CI is "true": CI must run the real daemon.
func Require(t testing.TB) {
	t.Helper()
	_, err1 := os.Stat(KnotdPath)
	_, err2 := os.Stat(KnotcPath)
	if err1 == nil && err2 == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("knottest: %s or %s missing and CI=true", KnotdPath, KnotcPath)
	}
	t.Skipf("knottest: knotd/knotc not installed")
}

// Start runs knotd and waits until its control socket answers. knotd is
// stopped when the test ends.
func Start(t testing.TB, opt Options) *Knot {
	t.Helper()
	Require(t)
	k := &Knot{Dir: t.TempDir(), opt: opt}
	// A Unix socket path is limited to about 100 bytes: test temporary
	// directories can be longer.
	sockDir, err := os.MkdirTemp("", "knt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	k.Socket = filepath.Join(sockDir, "knot.sock")
	k.ZonesDir = opt.ZonesDir
	if k.ZonesDir == "" {
		k.ZonesDir = filepath.Join(k.Dir, "zones")
	}
	if err := os.MkdirAll(k.ZonesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err = k.configure(); err != nil {
			break
		}
		if err = k.run(); err == nil {
			break
		}
		var pe *portError
		if !errors.As(err, &pe) {
			break
		}
	}
	if err != nil {
		t.Fatalf("knottest: start: %v\n%s", err, k.logTail())
	}
	t.Cleanup(k.stop)
	return k
}

func (k *Knot) path(name string) string { return filepath.Join(k.Dir, name) }

// Conf returns the path of knot.conf.
func (k *Knot) Conf() string { return k.path("knot.conf") }

func (k *Knot) configure() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	k.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n    rundir: %q\n    listen: 127.0.0.1@%d\n    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n", k.Dir, port)
	fmt.Fprintf(&b, "database:\n    storage: %q\n", k.path("db"))
	fmt.Fprintf(&b, "control:\n    listen: %q\n", k.Socket)
	b.WriteString("log:\n  - target: stderr\n    any: info\n")
	acl := ""
	if k.opt.AllowTransfer {
		b.WriteString("acl:\n  - id: xfr\n    address: 127.0.0.1\n    action: transfer\n")
		acl = "    acl: xfr\n"
	}
	storage := k.ZonesDir
	if k.opt.DefaultStorage != "" {
		storage = k.opt.DefaultStorage
	}
	b.WriteString("template:\n")
	fmt.Fprintf(&b, "  - id: default\n    storage: %q\n    file: \"%%s.zone\"\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n%s", storage, acl)
	if k.opt.ExtraTemplate != "" {
		fmt.Fprintf(&b, "  - id: %s\n    storage: %q\n    file: \"%%s.zone\"\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n%s", k.opt.ExtraTemplate, k.ZonesDir, acl)
	}
	if len(k.opt.Zones) > 0 {
		b.WriteString("zone:\n")
		for origin, file := range k.opt.Zones {
			fmt.Fprintf(&b, "  - domain: %s\n    file: %q\n", origin, file)
		}
	}
	return os.WriteFile(k.Conf(), []byte(b.String()), 0o600)
}

// portError means knotd could not bind the port picked for it.
type portError struct{ err error }

func (e *portError) Error() string { return e.err.Error() }

// run starts knotd in the foreground and returns once its control socket
// answers or it has exited.
func (k *Knot) run() error {
	logf, err := os.OpenFile(k.path("knotd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	k.cmd = exec.Command(KnotdPath, "-c", k.Conf())
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	if err := k.cmd.Start(); err != nil {
		return err
	}
	k.done = make(chan error, 1)
	go func() { k.done <- k.cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		log, _ := os.ReadFile(k.path("knotd.log"))
		if strings.Contains(string(log), "address already in use") {
			k.stop()
			return &portError{errors.New("knotd: port taken")}
		}
		if k.Knotc("status") == nil {
			return nil
		}
		select {
		case err := <-k.done:
			k.done <- err
			k.cmd = nil
			return fmt.Errorf("knotd exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("knotd not answering on %s after %s", k.Socket, startTimeout)
}

// Knotc runs knotc against this knotd.
func (k *Knot) Knotc(args ...string) error {
	_, err := k.KnotcOutput(args...)
	return err
}

// KnotcOutput runs knotc against this knotd and returns its output.
func (k *Knot) KnotcOutput(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, KnotcPath, append([]string{"-s", k.Socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("knottest: knotc %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Exchange sends m to knotd over network ("udp" or "tcp").
func (k *Knot) Exchange(m *dns.Msg, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	r, _, err := c.Exchange(m, k.Addr)
	return r, err
}

// WaitServes waits until knotd answers the SOA of origin with AA.
func (k *Knot) WaitServes(origin string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(origin), dns.TypeSOA)
		r, err := k.Exchange(m, "udp")
		if err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("knottest: zone %s not served (last %v, %v)", origin, r, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (k *Knot) stop() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	_ = k.cmd.Process.Signal(os.Interrupt)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		_ = k.cmd.Process.Kill()
		<-k.done
	}
	k.cmd = nil
}

// Stop stops knotd; Restart brings it back with the same configuration
// file (zones added at run time are gone, as after a real restart).
func (k *Knot) Stop() { k.stop() }

// Restart starts a stopped knotd again.
func (k *Knot) Restart(t testing.TB) {
	t.Helper()
	if k.cmd != nil {
		t.Fatal("knottest: restart of a running knotd")
	}
	if err := k.run(); err != nil {
		t.Fatalf("knottest: restart: %v\n%s", err, k.logTail())
	}
}

// Log returns knotd's log so far.
func (k *Knot) Log() string {
	b, _ := os.ReadFile(k.path("knotd.log"))
	return string(b)
}

func (k *Knot) logTail() string {
	b := k.Log()
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return b
}

// ports picks the daemons' ports below the ephemeral range (see
// internal/testutil/freeport), checked free for TCP and UDP.
var ports freeport.Picker

// freePort returns a port free on 127.0.0.1 for TCP and UDP.
func freePort() (int, error) { return ports.Next() }
