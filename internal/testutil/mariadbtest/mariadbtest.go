// Package mariadbtest runs a real MariaDB server for tests: a private
// mariadbd on 127.0.0.1 with a free port and a temporary data directory,
// a user that logs in with a password, and fresh databases on demand.
package mariadbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dadns/dadns/internal/testutil/freeport"
)

// Binaries the package runs, looked up in PATH first.
const (
	InstallDBPath = "/usr/bin/mariadb-install-db"
	MariadbdPath  = "/usr/sbin/mariadbd"
)

// User is the account every Server creates for the code under test; it
// authenticates with a password, as production users do.
const User = "dadns"

// startTimeout bounds how long a start waits for the server to accept
// connections.
const startTimeout = 60 * time.Second

// Server is a running (or stopped) private mariadbd.
type Server struct {
	// Host and Port are where the server listens (TCP on loopback only).
	Host string
	Port int
	// Password is User's password.
	Password string
	// Dir holds the data directory ("data") and the error log ("error.log").
	Dir string

	sockDir string
	seq     atomic.Int64
	extra   []string // further mariadbd flags (replication roles)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Available reports why the MariaDB binaries cannot be used, or nil.
func Available() error {
	for _, p := range []string{installDB(), mariadbd()} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("mariadbtest: %s not installed", p)
		}
	}
	return nil
}

// Require skips the test when MariaDB is not installed, or fails it when
// the environment variable CI is "true": CI must run the real server.
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

// Start launches a server in a test temporary directory and stops it when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	s, err := Launch(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Launch initialises a data directory under dir, starts mariadbd on a free
// loopback port and creates User. The caller must Close the server.
func Launch(dir string) (*Server, error) {
	return launch(dir, nil)
}

// launch is Launch with further mariadbd flags.
func launch(dir string, extra []string) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	sock, err := os.MkdirTemp("", "mdb") // short: socket paths are limited to ~100 bytes
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, sockDir: sock, Password: randomHex(12), extra: extra}
	if err := s.install(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startFreePort(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.createUser(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// serverFlags are shared by mariadb-install-db and mariadbd: small files
// and buffers, nothing but what a test needs.
func (s *Server) serverFlags() []string {
	// A temporary directory of its own: in the shared /tmp, another
	// process's cleanup can remove the temporary tables of a running
	// mariadb-install-db (seen under load as "Can't find file
	// '/tmp/#sql-temptable-...'").
	tmp := filepath.Join(s.Dir, "tmp")
	_ = os.MkdirAll(tmp, 0o700)
	f := []string{"--no-defaults", "--datadir=" + filepath.Join(s.Dir, "data"), "--tmpdir=" + tmp,
		"--innodb-log-file-size=16M", "--innodb-buffer-pool-size=64M"}
	if os.Geteuid() == 0 {
		f = append(f, "--user=root")
	}
	return f
}

func (s *Server) install() error {
	if err := os.MkdirAll(filepath.Join(s.Dir, "tmp"), 0o700); err != nil {
		return fmt.Errorf("mariadbtest: %w", err)
	}
	args := append(s.serverFlags(), "--auth-root-authentication-method=normal", "--skip-test-db")
	out, err := exec.Command(installDB(), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mariadbtest: mariadb-install-db: %w\n%s", err, tail(string(out)))
	}
	return nil
}

// startFreePort starts the server on a free port, trying again when
// another process took the port in between.
func (s *Server) startFreePort() error {
	var err error
	for range 5 {
		if s.Port, err = freePort(); err != nil {
			return err
		}
		if err = s.Restart(); err == nil {
			return nil
		}
		if !strings.Contains(s.errorLog(), "in use") {
			return err
		}
	}
	return err
}

// Restart starts the stopped server again with the same data directory and
// port, and waits until it accepts connections.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("mariadbtest: server already running")
	}
	args := append(s.serverFlags(),
		"--port="+strconv.Itoa(s.Port), "--bind-address="+s.Host,
		"--socket="+filepath.Join(s.sockDir, "s"), "--pid-file="+filepath.Join(s.sockDir, "pid"),
		"--log-error="+filepath.Join(s.Dir, "error.log"),
		"--skip-name-resolve", "--performance-schema=OFF", "--max-connections=200")
	args = append(args, s.extra...)
	cmd := exec.Command(mariadbd(), args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mariadbtest: start mariadbd: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(done); err != nil {
		s.stopLocked()
		return fmt.Errorf("mariadbtest: %w\n%s", err, tail(s.errorLog()))
	}
	return nil
}

// waitReady polls until root can run a query over TCP on this server: a
// server of another test (or another worktree's) that took the port
// between freePort and our bind answers with another data directory, and
// is not taken for ours (ours then exits with "in use" and startFreePort
// tries another port).
func (s *Server) waitReady(done chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	want := filepath.Clean(filepath.Join(s.Dir, "data"))
	if abs, err := filepath.Abs(want); err == nil {
		want = abs
	}
	if real, err := filepath.EvalSymlinks(want); err == nil {
		want = real
	}
	for {
		db, err := s.open("root", "", "")
		if err == nil {
			var dir string
			if err = db.QueryRow("SELECT @@datadir").Scan(&dir); err == nil && !sameDir(dir, want) {
				err = fmt.Errorf("port %d answered by the server of %s", s.Port, dir)
			}
			db.Close()
		}
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return errors.New("mariadbd exited at start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbd not ready after %v: %w", startTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sameDir reports whether the server's datadir is want (symlinks resolved).
func sameDir(dir, want string) bool {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Clean(dir) == want
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 30 s) and waits
// for it to exit. Its data directory and port stay for Restart.
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
	case <-time.After(30 * time.Second):
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

func (s *Server) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	return string(b)
}

func installDB() string { return lookPath("mariadb-install-db", InstallDBPath) }
func mariadbd() string  { return lookPath("mariadbd", MariadbdPath) }

func lookPath(name, fallback string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return fallback
}

// ports picks the daemons' ports below the ephemeral range (see
// internal/testutil/freeport), checked free for TCP and UDP.
var ports freeport.Picker

// freePort returns a port free on 127.0.0.1 for TCP and UDP.
func freePort() (int, error) { return ports.Next() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// ctx bounds administrative statements.
func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// open connects as user to database db ("" for none).
func (s *Server) open(user, password, db string) (*sql.DB, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, password, "tcp", s.Addr(), db
	c.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}
