// Command qpsmain serves a directory of zone files with the dnsserver
// package, for measuring queries per second with dnsperf against NSD or
// BIND loaded with the same files. Each file <origin>.db is one zone in
// DirectAdmin's shape (no $ORIGIN; $INCLUDE lines are skipped).
//
//	go run ./internal/dnsserver/internal/qpsmain -zones testdata/zones -addr 127.0.0.1:5300
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/testutil/hostingzone"
)

func main() {
	dir := flag.String("zones", ".", "directory of <origin>.db zone files")
	addr := flag.String("addr", "127.0.0.1:5300", "address to serve DNS on (UDP and TCP)")
	sockets := flag.Int("udp-sockets", 0, "UDP sockets sharing the port (SO_REUSEPORT); 0 means GOMAXPROCS")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	wildcardOnly := flag.Bool("no-address-sockets", false, "on a wildcard address, keep only the wildcard sockets (no socket per host address)")
	rrl := flag.Bool("rrl", false, "response rate limiting with dadns's defaults (loopback exempt)")
	cookies := flag.Bool("cookies", false, "DNS cookies")
	counts := flag.Bool("zone-counts", false, "count answers per zone")
	hosting := flag.Int("hosting", 0, "serve this many generated DirectAdmin-shaped zones (site0.example. upwards) instead of -zones")
	queries := flag.String("queries", "", "with -hosting: write a dnsperf query file of the bench's mix over those zones here")
	writeZones := flag.String("write-zones", "", "with -hosting: write the generated zones as <origin>.zone files in this directory (for NSD or Knot side by side) and exit")
	flag.Parse()
	opt := dnsserver.Options{UDPSockets: *sockets, NoAddressSockets: *wildcardOnly, ZoneCounts: *counts}
	if *rrl {
		opt.RRL = &dnsserver.RRLOptions{Slip: 2, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	}
	if *cookies {
		opt.Cookies = &dnsserver.CookieOptions{}
	}
	if *writeZones != "" {
		if err := writeHosting(*writeZones, *hosting); err != nil {
			fmt.Fprintln(os.Stderr, "qpsmain:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dir, *addr, opt, *profile, *hosting, *queries); err != nil {
		fmt.Fprintln(os.Stderr, "qpsmain:", err)
		os.Exit(1)
	}
}

func run(dir, addr string, opt dnsserver.Options, profile string, hosting int, queries string) error {
	var zones []*dnsserver.Zone
	var err error
	if hosting > 0 {
		zones, err = hostingZones(hosting)
		if err == nil && queries != "" {
			err = writeQueries(queries, hosting, 1000000)
		}
	} else {
		zones, err = loadDir(dir)
	}
	if err != nil {
		return err
	}
	if profile != "" {
		stop, err := startProfile(profile)
		if err != nil {
			return err
		}
		defer stop()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := dnsserver.New(opt)
	s.Apply(zones, nil)
	n := len(zones)
	zones = nil
	runtime.GC()
	udp, tcp, err := s.Listen(ctx, addr)
	if err != nil {
		return err
	}
	slog.Info("serving", "zones", n, "udp", udp, "tcp", tcp)
	<-ctx.Done()
	return nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func loadDir(dir string) ([]*dnsserver.Zone, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		return nil, err
	}
	var zones []*dnsserver.Zone
	for _, f := range files {
		z, err := loadFile(f)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", f, err)
		}
		zones = append(zones, z)
	}
	return zones, nil
}

// loadFile parses one zone file with lower-case owner names. It does not
// canonicalize further: good enough for load tests, not for serving.
func loadFile(path string) (*dnsserver.Zone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	origin := dns.Fqdn(strings.TrimSuffix(filepath.Base(path), ".db"))
	var text strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !strings.HasPrefix(strings.TrimSpace(sc.Text()), "$INCLUDE") {
			text.WriteString(sc.Text() + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	zp := dns.NewZoneParser(strings.NewReader(text.String()), origin, path)
	z := &dnsserver.Zone{Origin: origin, Hash: path}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rr.Header().Name = strings.ToLower(rr.Header().Name)
		z.RRs = append(z.RRs, rr)
	}
	return z, zp.Err()
}

// writeHosting writes the zones hostingZones generates as files
// <origin>.zone in dir, the same text with the same seed.
func writeHosting(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		name := fmt.Sprintf("site%d.example", i)
		text := "$ORIGIN " + name + ".\n" + hostingzone.Text(rng, name)
		if err := os.WriteFile(filepath.Join(dir, name+".zone"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// hostingZones generates n DirectAdmin-shaped zones, site0.example. to
// site<n-1>.example., as the package's hosting benchmarks do.
func hostingZones(n int) ([]*dnsserver.Zone, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]*dnsserver.Zone, n)
	for i := range out {
		name := fmt.Sprintf("site%d.example", i)
		zp := dns.NewZoneParser(strings.NewReader(hostingzone.Text(rng, name)), name+".", "")
		z := &dnsserver.Zone{Origin: name + ".", Hash: strconv.Itoa(i)}
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			rr.Header().Name = strings.ToLower(rr.Header().Name)
			z.RRs = append(z.RRs, rr)
		}
		if err := zp.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[i] = z
	}
	return out, nil
}

// writeQueries writes n dnsperf queries ("name type" lines) in the
// bench's mix (names that exist, missing types, wildcard names, NXDOMAIN)
// over zones site0.example. to site<zones-1>.example.
func writeQueries(path string, zones, n int) error {
	rng := rand.New(rand.NewPCG(3, 4))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for range n {
		name, t := hostingzone.Question(rng, zones)
		w.WriteString(name + " " + dns.TypeToString[t] + "\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
