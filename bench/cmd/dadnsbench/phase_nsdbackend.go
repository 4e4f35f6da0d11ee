package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// phaseNames are the phases -phases may select; empty runs every phase.
var phaseNames = []string{"nsdbackend", "ingest", "stores"}

// selectedPhases parses -phases.
func (o options) selectedPhases() (map[string]bool, error) {
	out := map[string]bool{}
	for f := range strings.SplitSeq(o.phases, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case slices.Contains(phaseNames, f):
			out[f] = true
		default:
			return nil, fmt.Errorf("dadnsbench: -phases: unknown phase %q (%s)", f, strings.Join(phaseNames, ", "))
		}
	}
	return out, nil
}

// onlyPhases runs the phases -phases selects, after prepare; it reports
// whether it ran anything (else the whole run goes on as usual).
func (b *bench) onlyPhases(ctx context.Context) bool {
	sel, _ := b.opt.selectedPhases()
	if len(sel) == 0 {
		return false
	}
	if sel["ingest"] {
		// The builtin-only push path alone: the initial load and the ack
		// latency runs, no DNS measurement.
		b.pushPhase(ctx, b.backendsPhase(ctx))
		b.latencyPhase(ctx)
		if b.dadns != nil {
			b.dadns.proc.stop()
		}
	}
	if sel["stores"] {
		b.storesPhase(ctx)
	}
	if sel["nsdbackend"] {
		b.nsdBackendPhase(ctx)
	}
	return true
}

// nsdBackendHost is the NSD that dadns's nsd backend drives: no zones of
// its own, a pattern loading the files dadns writes (addzone mode), and
// remote control on a local socket, which the backend speaks to directly.
type nsdBackendHost struct {
	dir      string
	zonesDir string
	include  string // the backend's nsd_conf (its list of zones, addzone mode)
	socket   string
	conf     string
	addr     string
	proc     *proc
}

// nsdBackendConfig is the backend NSD's nsd.conf: every file it writes
// inside dir, run as the current user, no response rate limiting (the
// push-to-served probes ask every millisecond from one address).
func nsdBackendConfig(h *nsdBackendHost, port, threads int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  ip-address: 127.0.0.1@%d\n  port: %d\n  do-ip6: no\n", port, port)
	fmt.Fprintf(&b, "  server-count: %d\n  reuseport: %s\n", threads, yesNo(threads > 1))
	fmt.Fprintf(&b, "  username: \"\"\n  chroot: \"\"\n  database: \"\"\n  rrl-ratelimit: 0\n")
	fmt.Fprintf(&b, "  zonesdir: %q\n", h.zonesDir)
	for _, f := range []string{"zonelistfile: zone.list", "xfrdfile: xfrd.state", "xfrdir: .", "pidfile: nsd.pid", "cookie-secret-file: cookies"} {
		key, name, _ := strings.Cut(f, ": ")
		fmt.Fprintf(&b, "  %s: %q\n", key, filepath.Join(h.dir, name))
	}
	fmt.Fprintf(&b, "  verbosity: 1\n  hide-version: yes\n")
	fmt.Fprintf(&b, "remote-control:\n  control-enable: yes\n  control-interface: %q\n", h.socket)
	fmt.Fprintf(&b, "pattern:\n  name: \"dadns\"\n  zonefile: %q\n", filepath.Join(h.zonesDir, "%s.db"))
	return b.String()
}

// startNSDBackendHost configures and starts NSD in dir and waits until
// its control socket answers.
func (b *bench) startNSDBackendHost(ctx context.Context, dir string) (*nsdBackendHost, error) {
	port, err := b.ports.next()
	if err != nil {
		return nil, err
	}
	// A unix socket path is limited to about 100 bytes: keep it short.
	sockDir, err := os.MkdirTemp("", "nsdctl")
	if err != nil {
		return nil, err
	}
	h := &nsdBackendHost{dir: dir, zonesDir: filepath.Join(dir, "zones"), include: filepath.Join(dir, "dadns-zones.conf"),
		socket: filepath.Join(sockDir, "nsd.ctl"), conf: filepath.Join(dir, "nsd.conf"), addr: loopback(port)}
	if err := os.MkdirAll(h.zonesDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(h.conf, []byte(nsdBackendConfig(h, port, b.opt.serverThreads)), 0o644); err != nil {
		return nil, err
	}
	h.proc, err = b.procs.start("nsd (nsd backend)", filepath.Join(dir, "nsd.log"), serverEnv(), b.opt.nsdBin, "-d", "-c", h.conf)
	if err != nil {
		return nil, err
	}
	return h, h.waitControl(ctx, filepath.Join(filepath.Dir(b.opt.nsdBin), "nsd-control"))
}

// waitControl waits until the daemon's control command answers.
func (h *nsdBackendHost) waitControl(ctx context.Context, nsdControl string) error {
	return waitControl(ctx, h.proc, "nsd backend's nsd", []string{nsdControl, "-c", h.conf, "status"}...)
}

// cleanupSocket removes the socket's temporary directory.
func (h *nsdBackendHost) cleanupSocket() { _ = os.RemoveAll(filepath.Dir(h.socket)) }

// backendYAML is the dns.backends entry of the nsd instance driving h:
// addzone mode on the socket, nsd-checkzone where the backend runs it.
func (h *nsdBackendHost) backendYAML(nsdBin string) string {
	dir := filepath.Dir(nsdBin)
	return fmt.Sprintf("    nsd:\n      type: nsd\n      zones_dir: %s\n      nsd_conf: %s\n      pattern: dadns\n      mode: addzone\n"+
		"      nsd_control: %s\n      nsd_control_conf: %s\n      nsd_control_socket: %s\n      nsd_checkzone: %s\n      verify_address: %s\n",
		strconv.Quote(h.zonesDir), strconv.Quote(h.include), strconv.Quote(filepath.Join(dir, "nsd-control")), strconv.Quote(h.conf),
		strconv.Quote(h.socket), strconv.Quote(filepath.Join(dir, "nsd-checkzone")), h.addr)
}

// nsdBackendPhase runs a fresh dadns with the builtin and an nsd backend
// driving its own NSD: every zone pushed, first push → all applied and
// verified on NSD (against NSD's own cold load of the same files, goal
// ≤ 3×), then -served-samples single-zone changes timed until NSD serves
// them (goal ≤ 100 ms median). It stops what it started.
func (b *bench) nsdBackendPhase(ctx context.Context) {
	const area = "nsd backend"
	if ctx.Err() != nil {
		return
	}
	slog.Info("nsd backend: starting its nsd")
	dir := filepath.Join(b.tmp, "nsd-backend")
	h, err := b.startNSDBackendHost(ctx, dir)
	if h != nil {
		defer h.cleanupSocket()
		defer h.proc.stop()
	}
	if err != nil {
		b.rep.fail(area, "nsd backend's nsd", err)
		return
	}
	s, err := b.startDadns(ctx, filepath.Join(dir, "dadns"), h.backendYAML(b.opt.nsdBin))
	if err != nil {
		b.rep.fail(area, "dadns start (builtin + nsd)", err)
		return
	}
	defer s.proc.stop()
	b.rep.fact("nsd backend", "a fresh dadns (builtin + nsd) drives its own NSD: addzone mode under a pattern, nsd-control's protocol on NSD's local control socket, nsd-checkzone only where the backend needs it (see internal/backend/nsd/README.md), SOA verification over TCP")
	names := []string{"builtin", "nsd"}
	n := len(b.zones)
	slog.Info("nsd backend: pushing zones", "zones", n, "pushers", b.opt.pushers)
	ectx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	st := pushAll(ectx, s.da, b.zones, b.opt.pushers, make(chan int, n))
	done, aerr := awaitApplied(ectx, s.da, names, n, st.start, s.proc.alive)
	cancel()
	if len(st.latency) < n {
		b.rep.problem(fmt.Sprintf("%s: %d of %d pushes accepted", area, len(st.latency), n))
	}
	b.rep.add(area, fmt.Sprintf("push throughput, %d pushers (bounds the end-to-end figures)", b.opt.pushers), "%s zones/s", thousands(rate(len(st.latency), st.last.Sub(st.start))))
	for _, name := range names {
		at, ok := done[name]
		measure := fmt.Sprintf("%s: first push → all %d zones applied and verified (/status)", name, n)
		if !ok {
			b.rep.add(area, measure, "not done (see problems)")
			continue
		}
		d := at.Sub(st.start)
		b.rep.add(area, measure, "%s (%s zones/s); %s after the last ack", secs(d), thousands(rate(n, d)), ms(at.Sub(st.last)))
	}
	if aerr != nil {
		b.rep.problem(area + ": " + aerr.Error())
	}
	b.nsdBackendCold(ctx, area, done["nsd"].Sub(st.start), done["builtin"].Sub(st.start))
	b.nsdBackendServed(ctx, area, s, h)
}

// nsdBackendCold compares the nsd backend's end-to-end time with NSD's
// own cold load of the same zone files: the daemon phase's figure when it
// ran, else a cold start of its own.
func (b *bench) nsdBackendCold(ctx context.Context, area string, e2e, builtin time.Duration) {
	cold, ok := b.coldLoad["NSD"]
	if !ok && ctx.Err() == nil {
		port, err := b.ports.next()
		dir := filepath.Join(b.tmp, "nsd-cold")
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			b.rep.fail(area, "NSD's own cold load", err)
			return
		}
		slog.Info("nsd backend: NSD's own cold load", "zones", len(b.zones))
		p, load, err := b.startDaemon(ctx, b.nsdDaemon(dir, b.zoneDir, port), dir)
		if p != nil {
			p.stop()
		}
		if err != nil {
			b.rep.fail(area, "NSD's own cold load", err)
			return
		}
		cold, ok = load, true
		b.rep.add(area, fmt.Sprintf("NSD: start → all %d zones answer SOA (cold load of the same files)", len(b.zones)), "%s", secs(cold))
	}
	if !ok || cold <= 0 || e2e <= 0 {
		return
	}
	ratio := e2e.Seconds() / cold.Seconds()
	b.rep.addGoal(area, "nsd: end-to-end / NSD's own cold load of the same zones", goal{"≤ 3×", ratio <= 3}, "%s / %s = %.1f×", secs(e2e), secs(cold), ratio)
	if builtin > 0 {
		b.rep.add(area, "nsd end-to-end / builtin end-to-end in the same dadns (what the nsd backend adds to ingestion)", "%.2f×", e2e.Seconds()/builtin.Seconds())
	}
}

// nsdBackendServed times -served-samples single-zone changes from the
// push until NSD (and builtin) serve the new serial, on the idle system.
func (b *bench) nsdBackendServed(ctx context.Context, area string, s *dadnsServer, h *nsdBackendHost) {
	if ctx.Err() != nil {
		return
	}
	c := &dns.Client{Net: "udp", Timeout: probeTimeout}
	probe := func(name, addr string) servedProbe {
		return servedProbe{name, func(ctx context.Context, zone string) (uint32, error) { return soaSerial(ctx, c, addr, zone) }}
	}
	probes := []servedProbe{probe("builtin", s.dnsAddr), probe("nsd", h.addr)}
	names := []string{"builtin", "nsd"}
	current := slices.Clone(b.zones)
	times := map[string][]time.Duration{}
	slog.Info("nsd backend: push-to-served", "samples", b.opt.servedSamples)
	for i := range b.opt.servedSamples {
		if err := awaitIdle(ctx, s.da, names, s.proc.alive); err != nil {
			b.rep.fail(area, "backends idle between changes", err)
			return
		}
		idx := len(current) - 1 - i%len(current)
		z := current[idx].withSerial(current[idx].serial + 1)
		got, err := timeServed(ctx, s.da, z, probes)
		if err != nil {
			b.rep.fail(area, "one zone changed on an idle system", err)
			return
		}
		current[idx] = z
		for name, d := range got {
			times[name] = append(times[name], d)
		}
	}
	for _, p := range probes {
		ds := times[p.name]
		measure := fmt.Sprintf("%s: push → new serial served, median (p90) of %d, polled every %s", p.name, len(ds), servedPoll)
		if len(ds) < b.opt.servedSamples {
			b.rep.add(area, measure, "served %d of %d changes within %s", len(ds), b.opt.servedSamples, servedTimeout)
			b.rep.problem(fmt.Sprintf("%s: %s served only %d of %d changes within %s", area, p.name, len(ds), b.opt.servedSamples, servedTimeout))
			continue
		}
		med := percentile(ds, 50)
		if p.name == "nsd" {
			b.rep.addGoal(area, measure, goal{"≤ 100.00 ms", med <= 100*time.Millisecond}, "%s (%s)", ms(med), ms(percentile(ds, 90)))
		} else {
			b.rep.add(area, measure, "%s (%s)", ms(med), ms(percentile(ds, 90)))
		}
	}
}

// timeServed pushes z and returns, per probe that saw its serial within
// servedTimeout, push start → served.
func timeServed(ctx context.Context, da *daClient, z *benchZone, probes []servedProbe) (map[string]time.Duration, error) {
	pctx, cancel := context.WithTimeout(ctx, servedTimeout)
	defer cancel()
	type seen struct {
		name string
		at   time.Time
		ok   bool
	}
	res := make(chan seen, len(probes))
	start := time.Now()
	for _, p := range probes {
		go func() {
			at, ok := awaitSerial(pctx, p, z)
			res <- seen{p.name, at, ok}
		}()
	}
	err := da.rawsave(ctx, z)
	if err != nil {
		cancel()
	}
	got := map[string]time.Duration{}
	for range probes {
		if r := <-res; r.ok {
			got[r.name] = r.at.Sub(start)
		}
	}
	return got, err
}
