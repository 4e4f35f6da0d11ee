package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// servingVariant is one builtin-only dadns whose DNS speed is measured:
// where its builtin listens and the keys of its section.
type servingVariant struct {
	key  string // its name in -serving
	name string // its name in the report
	host string
	keys string
}

// servingVariants are the builtin-only dadns processes of the QPS, burst
// and flood phases, each on its own copy of one imported store. The first
// is dadns as deployed (deploy/systemd, deploy/docker: 0.0.0.0, the
// defaults: RRL on with loopback exempt, cookies on) and always runs; the
// others run when named in -serving.
var servingVariants = []servingVariant{
	{"deployed", "dadns builtin 0.0.0.0 (shipped defaults)", shippedListen, ""},
	{"v6", "dadns builtin [::] (shipped defaults, asked on ::1)", "[::]", ""},
	{"lo", "dadns builtin 127.0.0.1 (shipped defaults)", "127.0.0.1", ""},
	// Loopback is exempt from RRL by default, so the shipped defaults never
	// account dnsperf's answers; this one does (no exempt prefix), with the
	// default rate: the query mix stays below it (see bench/README.md).
	{"rrl", "dadns builtin 0.0.0.0, RRL accounting every answer (exempt: none)", shippedListen, "      rrl:\n        exempt: []\n"},
	{"off", "dadns builtin 0.0.0.0, RRL and cookies off", shippedListen, "      rrl:\n        enabled: false\n      cookies: false\n"},
	// The wildcard sockets alone: every packet carries its destination
	// in an IP_PKTINFO control message (the deployed one also binds each
	// host address, whose sockets take the questions sent to them).
	{"wild", "dadns builtin 0.0.0.0, wildcard sockets only (address_sockets: false)", shippedListen, "      address_sockets: false\n"},
}

// servingSet is what servingPhase started.
type servingSet struct {
	targets []*target               // in servingVariants' order
	servers map[string]*dadnsServer // by variant key
	byKey   map[string]*target
}

// servingPhase imports every zone file into one store (dadns import zones
// --direct: the way an operator migrates), then starts one builtin-only
// dadns per variant on a copy of it and waits until each serves every
// zone. It reports the import, the deployed variant's start → all served
// and its memory.
func (b *bench) servingPhase(ctx context.Context) *servingSet {
	set := &servingSet{servers: map[string]*dadnsServer{}, byKey: map[string]*target{}}
	if ctx.Err() != nil {
		return set
	}
	want := b.opt.servingKeys()
	base := filepath.Join(b.tmp, "serving-base")
	if err := b.importZones(ctx, base); err != nil {
		b.rep.fail("serving", "zone files imported into a fresh store", err)
		return set
	}
	for i, v := range servingVariants {
		if i > 0 && !want[v.key] {
			continue
		}
		t := &target{name: v.name}
		set.targets = append(set.targets, t)
		set.byKey[v.key] = t
		if v.host == "[::]" && !hasIPv6Loopback() {
			t.err = fmt.Errorf("dadnsbench: no ::1 on this machine")
			b.rep.add("serving", v.name, "not measured: this machine has no ::1")
			continue
		}
		s, load, err := b.startServing(ctx, base, v)
		if err != nil {
			t.err = err
			b.rep.fail("serving", v.name+": start", err)
			continue
		}
		set.servers[v.key] = s
		t.addr, t.port, t.proc = s.dnsAddr, portOf(s.dnsAddr), s.proc
		if i == 0 {
			b.rep.add("serving", fmt.Sprintf("builtin-only dadns on %s: start on a store of %d zones → every zone answers its SOA serial", v.host, len(b.zones)), "%s", secs(load))
			b.servingMemory(s)
		}
	}
	return set
}

// importZones writes a builtin-only config under dir and imports every
// zone file into its (new) store directly.
func (b *bench) importZones(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "app.yml")
	pass, err := randomPassword()
	if err != nil {
		return err
	}
	httpPort, err := b.ports.Next()
	if err != nil {
		return err
	}
	dnsPort, err := b.ports.Next()
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfg, []byte(dadnsConfig(filepath.Join(dir, "data"), pass, httpPort, loopback(dnsPort), "")), 0o600); err != nil {
		return err
	}
	slog.Info("importing zone files", "zones", len(b.zones))
	ictx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ictx, b.opt.dadnsBin, "--config", cfg, "import", "zones", b.zoneDir, "--direct", "--owner", daHostname)
	cmd.Env = b.dadnsEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("dadnsbench: dadns import zones: %w: %.800s", err, lastLines(string(out), 10))
	}
	d := time.Since(start)
	b.rep.add("serving", fmt.Sprintf("`dadns import zones DIR --direct`: %d zone files into a fresh store", len(b.zones)), "%s (%s zones/s)", secs(d), thousands(rate(len(b.zones), d)))
	return nil
}

// startServing starts one variant on a copy of the imported store and
// waits until it serves every zone; it returns the time from its start.
func (b *bench) startServing(ctx context.Context, base string, v servingVariant) (*dadnsServer, time.Duration, error) {
	dir := filepath.Join(b.tmp, "serving-"+v.key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, err
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", filepath.Join(base, "data"), filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		return nil, 0, fmt.Errorf("dadnsbench: copy the imported store: %w: %s", err, out)
	}
	port, err := b.ports.Next()
	if err != nil {
		return nil, 0, err
	}
	slog.Info("starting a builtin-only dadns", "variant", v.key, "listen", v.host)
	start := time.Now()
	s, err := b.startDadnsWith(ctx, dir, builtinSpec{host: v.host, port: port, keys: v.keys})
	if err != nil {
		return nil, 0, err
	}
	lctx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	seen, err := awaitServed(lctx, s.dnsAddr, b.zones, allIndices(len(b.zones)), s.proc.alive)
	if err != nil {
		return s, 0, err
	}
	return s, latest(seen).Sub(start), nil
}

// servingMemory reports the deployed variant's memory holding every zone,
// beside NSD's holding the same zones (same run).
func (b *bench) servingMemory(s *dadnsServer) {
	pid := s.proc.cmd.Process.Pid
	rss, err := procStatus(pid, "VmRSS")
	if err != nil {
		b.rep.fail("memory", "builtin-only dadns RSS", err)
		return
	}
	hwm, _ := procStatus(pid, "VmHWM")
	records := int64(len(b.zones) * zoneRecords)
	b.servingRSS = rss
	b.rep.add("memory", fmt.Sprintf("builtin-only dadns holding %d zones (%d records): RSS after loading (peak)", len(b.zones), records),
		"%s (%s); %.0f bytes per record", mib(rss), mib(hwm), float64(rss)/float64(records))
}

// servingKeys parses -serving.
func (o options) servingKeys() map[string]bool {
	out := map[string]bool{}
	for f := range strings.SplitSeq(o.serving, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out[f] = true
		}
	}
	return out
}

// hasIPv6Loopback reports whether ::1 can be bound.
func hasIPv6Loopback() bool {
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
