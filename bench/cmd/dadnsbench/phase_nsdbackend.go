package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// phaseNames are the phases -phases may select; empty runs every phase.
var phaseNames = []string{"bindbackend", "nsdbackend", "knotbackend", "ingest", "latency", "stores"}

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
		// The push path with every backend of -backends: the initial
		// load, the ack latency runs, push → served and dadns's peak
		// memory; no DNS QPS measurement.
		b.pushPhase(ctx, b.backendsPhase(ctx))
		b.latencyPhase(ctx)
		b.servedPhase(ctx)
		b.footprint()
		if b.dadns != nil {
			b.dadns.proc.stop()
		}
	}
	if sel["latency"] && !sel["ingest"] {
		// Only the initial load and the ack latency runs, with every
		// backend of -backends applying meanwhile.
		b.pushPhase(ctx, b.backendsPhase(ctx))
		b.latencyPhase(ctx)
		if b.dadns != nil {
			b.dadns.proc.stop()
		}
	}
	if sel["stores"] {
		b.storesPhase(ctx)
	}
	for _, sb := range b.soloBackends() {
		if sel[sb.key] {
			b.soloBackendPhase(ctx, sb)
		}
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
	port, err := b.ports.Next()
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

// stop stops NSD and removes the socket's temporary directory.
func (h *nsdBackendHost) stop() {
	h.proc.stop()
	_ = os.RemoveAll(filepath.Dir(h.socket))
}

func (h *nsdBackendHost) dnsAddr() string { return h.addr }

// backendYAML is the dns.backends entry of the nsd instance driving h:
// addzone mode on the socket, nsd-checkzone where the backend runs it.
func (h *nsdBackendHost) backendYAML(nsdBin string) string {
	dir := filepath.Dir(nsdBin)
	return fmt.Sprintf("    nsd:\n      type: nsd\n      zones_dir: %s\n      nsd_conf: %s\n      pattern: dadns\n      mode: addzone\n"+
		"      nsd_control: %s\n      nsd_control_conf: %s\n      nsd_control_socket: %s\n      nsd_checkzone: %s\n      verify_address: %s\n",
		strconv.Quote(h.zonesDir), strconv.Quote(h.include), strconv.Quote(filepath.Join(dir, "nsd-control")), strconv.Quote(h.conf),
		strconv.Quote(h.socket), strconv.Quote(filepath.Join(dir, "nsd-checkzone")), h.addr)
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
