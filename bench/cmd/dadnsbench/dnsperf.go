package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"math"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// perfResult is what one dnsperf run reported.
type perfResult struct {
	qps        float64
	sent       int
	completed  int
	lost       int
	avgLatency time.Duration
	rcodes     string  // dnsperf's "Response codes:" line
	cpu        float64 // seconds of CPU the server's processes used during the run; 0 when unknown
}

// dnsperfArgs are the arguments of one run against server (an address)
// and port.
func (b *bench) dnsperfArgs(server, port, queryFile string) []string {
	return []string{
		"-s", server, "-p", port, "-d", queryFile,
		"-l", strconv.Itoa(b.roundSeconds()),
		"-c", strconv.Itoa(b.opt.perfClients), "-T", strconv.Itoa(b.opt.perfThreads),
	}
}

// roundSeconds is dnsperf's -l: the run time per server split over the
// rounds, whole seconds, at least one.
func (b *bench) roundSeconds() int {
	return max(1, int(math.Round(b.opt.duration.Seconds()/float64(b.opt.rounds))))
}

// runDnsperf runs dnsperf against addr (host:port) and parses its
// statistics.
func (b *bench) runDnsperf(ctx context.Context, addr, queryFile string) (perfResult, error) {
	host, port, _ := net.SplitHostPort(addr)
	return b.runDnsperfArgs(ctx, time.Duration(b.roundSeconds())*time.Second, b.dnsperfArgs(host, port, queryFile))
}

// runDnsperfArgs runs dnsperf with args (for about d) and parses its
// statistics.
func (b *bench) runDnsperfArgs(ctx context.Context, d time.Duration, args []string) (perfResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.opt.dnsperfBin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return perfResult{}, fmt.Errorf("dadnsbench: dnsperf: %w: %.600s", err, out)
	}
	return parseDnsperf(string(out))
}

// parseDnsperf reads the statistics block dnsperf prints at the end.
func parseDnsperf(out string) (perfResult, error) {
	var r perfResult
	found := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Queries sent":
			r.sent = leadingInt(val)
		case "Queries completed":
			r.completed = leadingInt(val)
		case "Queries lost":
			r.lost = leadingInt(val)
		case "Response codes":
			r.rcodes = val
		case "Average Latency (s)":
			r.avgLatency = time.Duration(leadingFloat(val) * float64(time.Second))
		case "Queries per second":
			r.qps, found = leadingFloat(val), true
		}
	}
	if !found {
		return r, fmt.Errorf("dadnsbench: dnsperf: no \"Queries per second\" in its output: %.600s", out)
	}
	return r, nil
}

// leadingInt parses the number a value starts with ("123 (98.00%)").
func leadingInt(s string) int {
	n, _ := strconv.Atoi(firstField(s))
	return n
}

// leadingFloat parses the number a value starts with.
func leadingFloat(s string) float64 {
	f, _ := strconv.ParseFloat(firstField(s), 64)
	return f
}

// firstField returns s up to its first space.
func firstField(s string) string {
	f, _, _ := strings.Cut(s, " ")
	return f
}

// medianRun returns the run with the median QPS (the lower middle one for
// an even count).
func medianRun(runs []perfResult) perfResult {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b perfResult) int { return cmp.Compare(a.qps, b.qps) })
	return s[(len(s)-1)/2]
}
