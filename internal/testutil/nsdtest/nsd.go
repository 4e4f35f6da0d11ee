// Package nsdtest runs a real NSD for tests: a private instance on
// 127.0.0.1 with a free port, its own directory and configuration, and
// its remote control on a local socket (no TLS keys) or, with
// Options.TLS, over TLS on a free 127.0.0.1 port with keys made for the
// instance; stopped when the test ends.
package nsdtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Binaries used by the package; tests skip (or fail under CI=true) when
// nsd is missing.
const (
	NSDPath       = "/usr/sbin/nsd"
	ControlPath   = "/usr/sbin/nsd-control"
	CheckzonePath = "/usr/sbin/nsd-checkzone"
)

// PatternName is the pattern every instance defines for nsd-control
// addzone: zone files <ZonesDir>/<zone>.db, and AXFR to 127.0.0.1 when
// Options.AllowTransfer is set.
const PatternName = "dadns"

// startTimeout bounds how long Start waits for NSD to answer nsd-control.
const startTimeout = 30 * time.Second

// Options configure Start.
type Options struct {
	// Include is a file nsd.conf includes (created empty when missing),
	// the way an operator includes the file dadns writes; "" for none.
	Include string
	// ZonesDir is where the pattern's zone files are; default Dir/zones.
	ZonesDir string
	// AllowTransfer lets 127.0.0.1 transfer the zones of the pattern and
	// the static zones.
	AllowTransfer bool
	// Zones are static zones (origin without the trailing dot → file
	// text) written into ZonesDir and configured in nsd.conf.
	Zones map[string]string
	// TLS puts the remote control on TCP 127.0.0.1 (a free port) with TLS,
	// as nsd-control-setup's users have it, instead of a local socket.
	// The keys (MakeKeys) are in Dir, named relative to zonesdir (Dir) in
	// nsd.conf, as nsd-control-setup names them.
	TLS bool
	// SetupKeys makes the TLS keys with nsd-control-setup instead (RSA
	// 3072, seconds of CPU).
	SetupKeys bool
}

// NSD is a running nsd.
type NSD struct {
	// Addr is the host:port NSD answers on, UDP and TCP.
	Addr string
	// Conf is the absolute path of nsd.conf, for nsd-control -c.
	Conf string
	// Dir holds nsd.conf, NSD's state files and its log (nsd.log).
	Dir string
	// ZonesDir is the directory of the pattern's zone files.
	ZonesDir string
	// Socket is NSD's control-interface when it is a local socket (no
	// TLS); "" with Options.TLS.
	Socket string
	// ControlAddr is the TLS control-interface's host:port with
	// Options.TLS, "" otherwise.
	ControlAddr string

	opt         Options
	socket      string
	controlPort int
	cmd         *exec.Cmd
	done        chan error
}

// Require skips the test when NSD is not installed, or fails it when the
// environment variable CI is "true": CI must run the real daemon.
func Require(t testing.TB) {
	t.Helper()
	missing := ""
	for _, p := range []string{NSDPath, ControlPath, CheckzonePath} {
		if _, err := os.Stat(p); err != nil {
			missing = p
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("nsdtest: %s missing and CI=true", missing)
	}
	t.Skipf("nsdtest: %s not installed", missing)
}

// Start runs NSD as configured and waits until nsd-control reaches it and
// every static zone answers its SOA. NSD is stopped when the test ends.
func Start(t testing.TB, opt Options) *NSD {
	t.Helper()
	Require(t)
	n := &NSD{Dir: t.TempDir(), opt: opt}
	n.Conf = n.path("nsd.conf")
	n.ZonesDir = opt.ZonesDir
	if n.ZonesDir == "" {
		n.ZonesDir = n.path("zones")
	}
	if opt.TLS && opt.SetupKeys {
		// Part of the nsd package Require found.
		if _, err := os.Stat(SetupPath); err != nil {
			t.Fatalf("nsdtest: %v", err)
		}
	}
	if !opt.TLS {
		// A unix socket path is limited to about 100 bytes: keep it short.
		sock, err := os.MkdirTemp("", "nsdctl")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(sock) })
		n.socket = filepath.Join(sock, "nsd.ctl")
		n.Socket = n.socket
	}
	var err error
	if err := n.prepare(); err != nil {
		t.Fatalf("nsdtest: %v", err)
	}
	for range 5 {
		if err = n.configure(); err != nil {
			break
		}
		if err = n.run(); err == nil || !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		t.Fatalf("nsdtest: start: %v\n%s", err, n.logTail())
	}
	t.Cleanup(n.Stop)
	if err := n.WaitZones(slices.Collect(maps.Keys(opt.Zones)), startTimeout); err != nil {
		t.Fatalf("nsdtest: start: %v\n%s", err, n.logTail())
	}
	return n
}

func (n *NSD) path(name string) string { return filepath.Join(n.Dir, name) }

// prepare creates the zones directory, the include, the static zones and
// the TLS keys.
func (n *NSD) prepare() error {
	if err := os.MkdirAll(n.ZonesDir, 0o755); err != nil {
		return err
	}
	if n.opt.TLS {
		mk := MakeKeys
		if n.opt.SetupKeys {
			mk = SetupKeys
		}
		if err := mk(n.Dir); err != nil {
			return err
		}
	}
	if inc := n.opt.Include; inc != "" {
		if _, err := os.Stat(inc); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(inc, nil, 0o644); err != nil {
				return err
			}
		}
	}
	for origin, text := range n.opt.Zones {
		if err := os.WriteFile(filepath.Join(n.ZonesDir, origin+".db"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// configure picks a port and writes nsd.conf.
func (n *NSD) configure() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if n.opt.TLS {
		cport := port
		for cport == port {
			if cport, err = freePort(); err != nil {
				return err
			}
		}
		n.controlPort = cport
		n.ControlAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(cport))
	}
	return os.WriteFile(n.Conf, []byte(n.config(port)), 0o600)
}

// config is NSD's configuration: every file it writes inside Dir, run as
// the current user without chroot or database, control over a local
// socket, one server process.
func (n *NSD) config(port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n\tip-address: 127.0.0.1@%d\n\tdo-ip6: no\n\tserver-count: 1\n", port)
	fmt.Fprintf(&b, "\tusername: \"\"\n\tchroot: \"\"\n\tdatabase: \"\"\n\tverbosity: 2\n")
	// Tests ask many questions from one address: no response rate limit.
	b.WriteString("\trrl-ratelimit: 0\n")
	for _, f := range []string{"zonesdir: .", "zonelistfile: zone.list", "xfrdfile: xfrd.state", "xfrdir: .",
		"pidfile: nsd.pid", "logfile: nsd.log", "cookie-secret-file: cookies"} {
		key, name, _ := strings.Cut(f, ": ")
		fmt.Fprintf(&b, "\t%s: %q\n", key, n.path(name))
	}
	if n.opt.TLS {
		// Key files relative to zonesdir (Dir), as nsd.conf(5) allows.
		fmt.Fprintf(&b, "remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: 127.0.0.1\n\tcontrol-port: %d\n", n.controlPort)
		fmt.Fprintf(&b, "\tserver-key-file: %q\n\tserver-cert-file: %q\n\tcontrol-key-file: %q\n\tcontrol-cert-file: %q\n",
			ServerKeyFile, ServerCertFile, ControlKeyFile, ControlCertFile)
	} else {
		fmt.Fprintf(&b, "remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: %q\n", n.socket)
	}
	fmt.Fprintf(&b, "pattern:\n\tname: %q\n\tzonefile: %q\n", PatternName, filepath.Join(n.ZonesDir, "%s.db"))
	if n.opt.AllowTransfer {
		b.WriteString("\tprovide-xfr: 127.0.0.1 NOKEY\n")
	}
	origins := slices.Sorted(maps.Keys(n.opt.Zones))
	for _, o := range origins {
		fmt.Fprintf(&b, "zone:\n\tname: %q\n\tzonefile: %q\n", o, filepath.Join(n.ZonesDir, o+".db"))
		if n.opt.AllowTransfer {
			b.WriteString("\tprovide-xfr: 127.0.0.1 NOKEY\n")
		}
	}
	if n.opt.Include != "" {
		fmt.Fprintf(&b, "include: %q\n", n.opt.Include)
	}
	return b.String()
}

var errPortTaken = errors.New("nsdtest: port taken")

// run starts nsd in the foreground and returns once nsd-control reaches
// it or it has exited.
func (n *NSD) run() error {
	out, err := os.OpenFile(n.path("nsd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	n.cmd = exec.Command(NSDPath, "-d", "-c", n.Conf)
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.done = make(chan error, 1)
	go func() { n.done <- n.cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if _, err := n.Control("status"); err == nil {
			return nil
		}
		select {
		case err := <-n.done:
			n.cmd = nil
			if strings.Contains(n.logTail(), "already in use") {
				return errPortTaken
			}
			return fmt.Errorf("nsd exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	n.Stop()
	return fmt.Errorf("nsd not answering nsd-control after %s", startTimeout)
}

// Control runs nsd-control with this instance's configuration and returns
// its output; a non-zero exit is an error.
func (n *NSD) Control(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ControlPath, append([]string{"-c", n.Conf}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("nsdtest: nsd-control %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// WaitZones waits until NSD answers the SOA of every origin with AA.
func (n *NSD) WaitZones(origins []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, origin := range origins {
		for {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(origin), dns.TypeSOA)
			r, err := n.Exchange(m, "udp")
			if err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) > 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("zone %s not served (reply %v, error %v)", origin, rcode(r), err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

func rcode(r *dns.Msg) string {
	if r == nil {
		return "none"
	}
	return dns.RcodeToString[r.Rcode]
}

// Exchange sends m to NSD over network ("udp" or "tcp").
func (n *NSD) Exchange(m *dns.Msg, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	r, _, err := c.Exchange(m, n.Addr)
	return r, err
}

// Stop stops NSD; Restart brings it back on the same port and files.
func (n *NSD) Stop() {
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

// PID is the process id of NSD's main process (0 when stopped); its
// xfrd and server processes are its children.
func (n *NSD) PID() int {
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Restart starts a stopped NSD again with the same configuration.
func (n *NSD) Restart(t testing.TB) {
	t.Helper()
	if n.cmd != nil {
		t.Fatal("nsdtest: restart of a running nsd")
	}
	if err := n.run(); err != nil {
		t.Fatalf("nsdtest: restart: %v\n%s", err, n.logTail())
	}
}

// Log returns NSD's log so far.
func (n *NSD) Log() string {
	b, _ := os.ReadFile(n.path("nsd.log"))
	o, _ := os.ReadFile(n.path("nsd.out"))
	return string(b) + string(o)
}

func (n *NSD) logTail() string {
	s := n.Log()
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return s
}

// freePort returns a port that is free on 127.0.0.1 for both UDP and TCP
// at the time of the call.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("nsdtest: no free port")
}
