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
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/dnsserver"
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
	flag.Parse()
	opt := dnsserver.Options{UDPSockets: *sockets, NoAddressSockets: *wildcardOnly, ZoneCounts: *counts}
	if *rrl {
		opt.RRL = &dnsserver.RRLOptions{Slip: 2, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	}
	if *cookies {
		opt.Cookies = &dnsserver.CookieOptions{}
	}
	if err := run(*dir, *addr, opt, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "qpsmain:", err)
		os.Exit(1)
	}
}

func run(dir, addr string, opt dnsserver.Options, profile string) error {
	if profile != "" {
		stop, err := startProfile(profile)
		if err != nil {
			return err
		}
		defer stop()
	}
	zones, err := loadDir(dir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := dnsserver.New(opt)
	s.Apply(zones, nil)
	udp, tcp, err := s.Listen(ctx, addr)
	if err != nil {
		return err
	}
	slog.Info("serving", "zones", len(zones), "udp", udp, "tcp", tcp)
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
