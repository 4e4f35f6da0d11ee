package corednstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/freeport"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
)

// buildTimeout bounds a cold build (module downloads and a CoreDNS
// compile on a busy machine).
const buildTimeout = 20 * time.Minute

// Build returns the path of CoreDNS built with the mysql plugin from the
// image's pins (cached across runs). When the Go module proxy cannot be
// asked for the pinned modules (it refuses, or the network is down) the
// test is skipped, saying so, also under CI=true: that is no fault of the
// pin. A pinned version the proxy says does not exist, or a failed build,
// fails the test.
func Build(t testing.TB) string {
	t.Helper()
	src, err := RepoSource()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	bin, err := BuildBinary(ctx, src)
	switch {
	case errors.Is(err, ErrUnavailable):
		t.Skipf("corednstest: cannot build CoreDNS %s with %s@%s: the Go module proxy did not serve the modules here "+
			"(not a verdict on the pin; the build runs where the proxy answers):\n%v", src.Pins.CoreDNS, PluginModule, src.Pins.MySQLPlugin, err)
	case err != nil:
		t.Fatalf("CoreDNS %s with %s@%s (deploy/coredns-mysql/coredns/Dockerfile): %v", src.Pins.CoreDNS, PluginModule, src.Pins.MySQLPlugin, err)
	}
	return bin
}

// Server is a running CoreDNS.
type Server struct {
	Addr     string // DNS, 127.0.0.1:port (UDP and TCP)
	ReadyURL string // the ready plugin's endpoint
	Corefile string
	cmd      *exec.Cmd
	out      *syncbuf.Buffer
	exited   chan struct{}
}

// Options tune Start; the zero value is the image's Corefile with short
// refresh times.
type Options struct {
	// Heartbeat is the plugin's success_heartbeat_time: a new zone is
	// served after the next zone-list refresh (default 1 s).
	Heartbeat time.Duration
}

// Start builds (or takes from the cache) CoreDNS and runs it on
// 127.0.0.1:port with the mysql plugin reading the database at dsn (Go
// MySQL driver form, user:password@tcp(host:port)/database), the tables
// dadns's coredns_mysql backend writes (zones, records), and the AA flag
// set as the image's Corefile does. It waits until the ready plugin says
// ready and stops the server when the test ends.
func Start(t testing.TB, dsn string, port int) *Server {
	t.Helper()
	return StartWith(t, dsn, port, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, dsn string, port int, opt Options) *Server {
	t.Helper()
	bin := Build(t)
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = time.Second
	}
	dir := t.TempDir()
	ready, err := freeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/ready", ready),
		Corefile: filepath.Join(dir, "Corefile"),
		out:      &syncbuf.Buffer{},
		exited:   make(chan struct{}),
	}
	if err := os.WriteFile(s.Corefile, []byte(corefile(dsn, port, ready, opt, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bin, "-conf", s.Corefile)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.Stop)
	if err := s.waitReady(60 * time.Second); err != nil {
		t.Fatalf("corednstest: %v\n%s", err, s.Log())
	}
	return s
}

// corefile is the image's Corefile for one loopback server.
func corefile(dsn string, port, ready int, opt Options, dir string) string {
	return fmt.Sprintf(`.:%d {
	bind 127.0.0.1
	ready 127.0.0.1:%d
	errors
	header {
		response set aa
	}
	mysql {
		dsn "%s"
		zones_table zones
		records_table records
		success_heartbeat_time %s
		fail_heartbeat_time 1s
		dump_file %s
	}
}
`, port, ready, strings.ReplaceAll(dsn, `"`, `\"`), opt.Heartbeat, filepath.Join(dir, "dump.json"))
}

// waitReady polls the ready plugin until it answers 200.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := client.Get(s.ReadyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("coredns exited at start")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("coredns not ready after %s", limit)
		}
	}
}

// Log returns what CoreDNS printed so far.
func (s *Server) Log() string { return s.out.String() }

// Stop ends CoreDNS (SIGTERM, SIGKILL after 10 s) and waits for it.
func (s *Server) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// ports picks the daemons' ports below the ephemeral range (see
// internal/testutil/freeport), checked free for TCP and UDP.
var ports freeport.Picker

// freeTCPPort returns a port free on 127.0.0.1 for TCP and UDP.
func freeTCPPort() (int, error) { return ports.Next() }
