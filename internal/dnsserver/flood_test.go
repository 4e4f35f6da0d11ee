package dnsserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// child is a server process started from the test binary.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	port  int
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(exe)}
	c.cmd.Env = append(append(os.Environ(), "DNSSERVER_CHILD=1"), env...)
	c.stdin, _ = c.cmd.StdinPipe()
	stdout, _ := c.cmd.StdoutPipe()
	c.cmd.Stderr = os.Stderr
	c.out = bufio.NewReader(stdout)
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.stdin.Close(); _ = c.cmd.Wait() })
	line := make(chan string, 1)
	go func() { l, _ := c.out.ReadString('\n'); line <- strings.TrimSpace(l) }()
	select {
	case l := <-line:
		if c.port, err = strconv.Atoi(l); err != nil {
			t.Fatalf("child said %q", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("child did not start")
	}
	return c
}

// goroutines asks the child for its goroutine count.
func (c *child) goroutines(t *testing.T) int {
	if _, err := io.WriteString(c.stdin, "g\n"); err != nil {
		t.Fatal(err)
	}
	l, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(l))
	return n
}

// memKiB reads a field (VmRSS, VmHWM) of the child's /proc status in KiB.
func (c *child) memKiB(t *testing.T, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc status", field)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestFloodBounded floods a server process running with the shipped
// defaults (RRL, cookies, minimal ANY; loopback not exempt) with dnsperf
// (64 clients, up to 20,000 queries outstanding, 10 s) from 127.0.0.1,
// on 127.0.0.1 and on 0.0.0.0. It reports peak RSS and goroutines and
// asserts that goroutines stay bounded, and that a second client on
// another /24 (127.0.1.2) asking 100 queries a second over 20 names is
// answered at least 99 % of the time meanwhile.
func TestFloodBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	if raceEnabled {
		// Several times slower, the server cannot drain a full-speed flood:
		// the kernel drops the second client's packets with the flood's
		// at the socket, which says nothing about the server.
		t.Skip("load test: run without -race")
	}
	dnsperf := needTool(t, "dnsperf")
	qf := filepath.Join(t.TempDir(), "queries")
	if err := os.WriteFile(qf, []byte("www.example.test A\nexample.test A\nn1.example.test A\nx.example.test A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, listen := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(listen, func(t *testing.T) {
			c := startChild(t, "DNSSERVER_DEFAULTS=1", "DNSSERVER_LISTEN="+listen)
			idle := c.memKiB(t, "VmRSS")
			idleG := c.goroutines(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			perf := exec.CommandContext(ctx, dnsperf, "-s", "127.0.0.1", "-p", strconv.Itoa(c.port), "-d", qf,
				"-c", "64", "-q", "20000", "-l", "10", "-t", "2")
			var perfOut strings.Builder
			perf.Stdout, perf.Stderr = &perfOut, &perfOut
			if err := perf.Start(); err != nil {
				t.Fatal(err)
			}
			quiet := make(chan [2]int, 1)
			go func() { quiet <- steadyClient(c.port, 10*time.Second) }()
			maxG := 0
			done := make(chan error, 1)
			go func() { done <- perf.Wait() }()
			var perr error
		sample:
			for {
				select {
				case perr = <-done:
					break sample
				case <-time.After(500 * time.Millisecond):
					maxG = max(maxG, c.goroutines(t))
				}
			}
			q := <-quiet
			peak := c.memKiB(t, "VmHWM")
			field := func(re string) string {
				if m := regexp.MustCompile(re).FindStringSubmatch(perfOut.String()); m != nil {
					return m[1]
				}
				return "?"
			}
			t.Logf("%s: idle RSS %d KiB, peak RSS %d KiB (%.1fx); goroutines idle %d, peak %d; dnsperf: %s queries sent, %s replies/s (TC slips included), %s unanswered (RRL drops); 127.0.1.2: %d/%d answered",
				listen, idle, peak, float64(peak)/float64(idle), idleG, maxG,
				field(`Queries sent:\s+(\d+)`), field(`Queries per second:\s+([\d.]+)`), field(`Queries lost:\s+(\d+)`), q[0], q[1])
			if perr != nil {
				t.Fatalf("dnsperf: %v\n%s", perr, perfOut.String())
			}
			if maxG > idleG+16 {
				t.Errorf("goroutines grew from %d to %d under the flood", idleG, maxG)
			}
			if q[1] == 0 || float64(q[0]) < 0.99*float64(q[1]) {
				t.Errorf("second client: %d of %d answered, want ≥ 99%%", q[0], q[1])
			}
		})
	}
}

// steadyClient asks from 127.0.1.2 at 100 queries a second for d, over
// 20 names, and returns (answered, asked).
func steadyClient(port int, d time.Duration) [2]int {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 1, 2)})
	if err != nil {
		return [2]int{0, 0}
	}
	defer conn.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	count := make(chan int, 1)
	go func() {
		answered := map[uint16]bool{}
		defer func() { count <- len(answered) }()
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r := new(dns.Msg)
			if r.Unpack(buf[:n]) == nil && !r.Truncated && len(r.Answer) == 1 {
				answered[r.Id] = true
			}
		}
	}()
	asked := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		<-tick.C
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("n%d.example.test.", asked%20), dns.TypeA)
		m.Id = uint16(asked)
		pkt, _ := m.Pack()
		if _, err := conn.WriteToUDP(pkt, to); err == nil {
			asked++
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second)) // late answers
	return [2]int{<-count, asked}
}

// TestQPSDefaultsVsOff measures (reports, asserts nothing) dnsperf QPS
// against a server process with RRL (accounting every answer, never
// limiting: a rate no client reaches), cookies and minimal ANY on, beside
// one with them off, on 0.0.0.0. Run with DNSSERVER_QPS=1.
func TestQPSDefaultsVsOff(t *testing.T) {
	if os.Getenv("DNSSERVER_QPS") != "1" {
		t.Skip("set DNSSERVER_QPS=1 to measure")
	}
	dnsperf := needTool(t, "dnsperf")
	qf := filepath.Join(t.TempDir(), "queries")
	var qs strings.Builder
	for i := range 20 {
		fmt.Fprintf(&qs, "n%d.example.test A\nx%d.example.test A\n", i, i)
	}
	if err := os.WriteFile(qf, []byte(qs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for _, mode := range []string{"off", "defaults"} {
			env := []string{"DNSSERVER_LISTEN=0.0.0.0:0"}
			if mode == "defaults" {
				env = append(env, "DNSSERVER_DEFAULTS=1", "DNSSERVER_RRL_RATE=10000000")
			}
			c := startChild(t, env...)
			out, err := exec.Command(dnsperf, "-s", "127.0.0.1", "-p", strconv.Itoa(c.port), "-d", qf, "-c", "8", "-l", "5").CombinedOutput()
			if err != nil {
				t.Fatalf("dnsperf: %v\n%s", err, out)
			}
			m := regexp.MustCompile(`Queries per second:\s+([\d.]+)`).FindSubmatch(out)
			t.Logf("round %d, %s: %s QPS", round, mode, m[1])
			_ = c.stdin.Close()
		}
	}
}
