// Package pdnstest runs a real PowerDNS Authoritative server for tests: a
// private pdns_server with the generic MySQL backend (gmysql) reading a
// given database, listening on 127.0.0.1 at a free port, with its config
// and control socket in a temporary directory.
package pdnstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// ServerPath is where Debian's pdns-server puts the binary, when it is
// not in PATH.
const ServerPath = "/usr/sbin/pdns_server"

// gmysqlModule is the gmysql backend of Debian's pdns-backend-mysql.
var gmysqlModules = []string{"/usr/lib/x86_64-linux-gnu/pdns/libgmysqlbackend.so", "/usr/lib/aarch64-linux-gnu/pdns/libgmysqlbackend.so",
	"/usr/lib/pdns/libgmysqlbackend.so"}

// DB is the database the server reads.
type DB struct {
	Host     string
	Port     int
	Name     string
	User     string
	Password string
}

// Options configure a server.
type Options struct {
	DB DB
	// Settings are extra pdns.conf settings ("name=value"), after the
	// defaults, which they override.
	Settings []string
}

// Server is a running (or stopped) pdns_server.
type Server struct {
	// Addr is host:port of the DNS listener (UDP and TCP).
	Addr string
	// Dir holds pdns.conf, the control socket and the log ("pdns.log").
	Dir string

	sockDir string
	opt     Options

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Available reports why pdns_server or its gmysql backend cannot be used,
// or nil.
func Available() error {
	if _, err := os.Stat(binary()); err != nil {
		return fmt.Errorf("pdnstest: %s not installed (Debian package pdns-server)", binary())
	}
	if moduleDir() == "" {
		return errors.New("pdnstest: libgmysqlbackend.so not installed (Debian package pdns-backend-mysql)")
	}
	return nil
}

// Require skips the test when PowerDNS is not installed, or fails it when
// the environment variable CI is "true".
func Require(t testing.TB) {
	t.Helper()
	err := Available()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v and CI=true", err)
	}
	t.Skip(err)
}

// Start launches a server for the test and stops it when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	Require(t)
	s, err := Launch(t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Launch writes the configuration under dir and starts pdns_server on a
// free loopback port. The caller must Close the server.
func Launch(dir string, opt Options) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	sock, err := os.MkdirTemp("", "pdns") // short: socket paths are limited to ~100 bytes
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, sockDir: sock, opt: opt}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.Restart(); lastErr == nil {
			return s, nil
		}
		if !strings.Contains(s.Log(), "in use") {
			break
		}
	}
	s.Close()
	return nil, lastErr
}

// Conf returns the pdns.conf the server runs with.
func (s *Server) Conf() string {
	host, port, _ := net.SplitHostPort(s.Addr)
	lines := []string{
		"launch=gmysql",
		"module-dir=" + moduleDir(),
		"gmysql-host=" + s.opt.DB.Host,
		"gmysql-port=" + strconv.Itoa(s.opt.DB.Port),
		"gmysql-dbname=" + s.opt.DB.Name,
		"gmysql-user=" + s.opt.DB.User,
		"gmysql-password=" + s.opt.DB.Password,
		"gmysql-dnssec=no",
		"gmysql-timeout=5",
		"local-address=" + host,
		"local-port=" + port,
		"socket-dir=" + s.sockDir,
		"guardian=no",
		"daemon=no",
		"disable-syslog=yes",
		"write-pid=no",
		"primary=no",
		"secondary=no",
		"disable-axfr=yes",
		"webserver=no",
		"api=no",
		"loglevel=4",
		"distributor-threads=2",
		"receiver-threads=1",
		"reuseport=no",
		// No caches: a test sees a change as soon as the rows hold it.
		"cache-ttl=0",
		"query-cache-ttl=0",
		"negquery-cache-ttl=0",
		"zone-cache-refresh-interval=0",
		"consistent-backends=yes",
		"dname-processing=yes", // serve DNAME as RFC 6672 says (PowerDNS's default is no)
	}
	return strings.Join(append(lines, s.opt.Settings...), "\n") + "\n"
}

// Restart starts the stopped server again with the same configuration and
// port, and waits until it answers queries.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("pdnstest: server already running")
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "pdns.conf"), []byte(s.Conf()), 0o600); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "pdns.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(binary(), "--config-dir="+s.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pdnstest: start pdns_server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(done); err != nil {
		s.stopLocked()
		return fmt.Errorf("pdnstest: %w\n%s", err, tail(s.Log()))
	}
	return nil
}

// waitReady polls until the server answers a query over UDP and TCP.
func (s *Server) waitReady(done chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		for _, network := range []string{"udp", "tcp"} {
			m := new(dns.Msg)
			m.SetQuestion("ready.invalid.", dns.TypeSOA)
			c := &dns.Client{Net: network, Timeout: 500 * time.Millisecond}
			if _, _, e := c.Exchange(m, s.Addr); e != nil {
				err = e
			}
		}
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return errors.New("pdns_server exited at start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pdns_server not answering after 30s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exchange sends m to the server over network ("udp" or "tcp").
func (s *Server) Exchange(m *dns.Msg, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	r, _, err := c.Exchange(m, s.Addr)
	return r, err
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 15 s).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// Close stops the server and removes its socket directory.
func (s *Server) Close() {
	s.Stop()
	_ = os.RemoveAll(s.sockDir)
}

// Log returns what the server logged.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "pdns.log"))
	return string(b)
}

func binary() string {
	if p, err := exec.LookPath("pdns_server"); err == nil {
		return p
	}
	return ServerPath
}

func moduleDir() string {
	for _, p := range gmysqlModules {
		if _, err := os.Stat(p); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

func freePort() (int, error) {
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, errors.New("pdnstest: no free port")
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
