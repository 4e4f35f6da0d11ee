package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// knotHost is the knotd that dadns's knot backend drives: no zones of its
// own, a default template loading the files dadns writes, and a control
// socket.
type knotHost struct {
	dir      string
	zonesDir string
	socket   string
	addr     string // where it answers DNS
	proc     *proc
}

// knotConfig is a knot.conf keeping every file knotd writes inside dir:
// the default template loads <zonesDir>/<zone>.zone (or, for zones listed,
// the file given), never writes zone files back, and keeps no journal.
func knotConfig(dir, zonesDir, socket string, port, threads int, files map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n    rundir: %q\n    listen: 127.0.0.1@%d\n", dir, port)
	fmt.Fprintf(&b, "    udp-workers: %d\n    tcp-workers: %d\n    background-workers: %d\n", threads, threads, threads)
	fmt.Fprintf(&b, "database:\n    storage: %q\n", filepath.Join(dir, "db"))
	if socket != "" {
		fmt.Fprintf(&b, "control:\n    listen: %q\n", socket)
	}
	b.WriteString("log:\n  - target: stderr\n    any: notice\n")
	fmt.Fprintf(&b, "template:\n  - id: default\n    storage: %q\n    file: \"%%s.zone\"\n", zonesDir)
	b.WriteString("    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n")
	if len(files) > 0 {
		b.WriteString("zone:\n")
		for name, file := range files {
			fmt.Fprintf(&b, "  - domain: %s\n    file: %q\n", name, file)
		}
	}
	return b.String()
}

// startKnotHost configures and starts knotd in dir and waits until knotc
// reaches it.
func (b *bench) startKnotHost(ctx context.Context, dir string) (*knotHost, error) {
	port, err := b.ports.Next()
	if err != nil {
		return nil, err
	}
	h := &knotHost{dir: dir, zonesDir: filepath.Join(dir, "zones"), socket: filepath.Join(dir, "knot.sock"), addr: loopback(port)}
	if err := os.MkdirAll(h.zonesDir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(conf, []byte(knotConfig(dir, h.zonesDir, h.socket, port, b.opt.serverThreads, nil)), 0o644); err != nil {
		return nil, err
	}
	h.proc, err = b.procs.start("knotd (knot backend)", filepath.Join(dir, "knotd.log"), serverEnv(), b.opt.knotdBin, "-c", conf)
	if err != nil {
		return nil, err
	}
	return h, h.waitControl(ctx, b.opt.knotcBin)
}

// waitControl waits until the daemon's control command answers.
func (h *knotHost) waitControl(ctx context.Context, knotc string) error {
	return waitControl(ctx, h.proc, "knot backend's knotd", []string{knotc, "-s", h.socket, "status"}...)
}

// backendYAML is the dns.backends entry of the knot instance driving h.
func (h *knotHost) backendYAML(knotc string) string {
	return fmt.Sprintf("    knot:\n      type: knot\n      zones_dir: %s\n      knotc_path: %s\n      knot_socket: %s\n      verify_address: %s\n",
		strconv.Quote(h.zonesDir), strconv.Quote(knotc), strconv.Quote(h.socket), h.addr)
}

// knotColdPhase times knotd's own cold load of the bench's zone files
// (listed in its knot.conf) and leaves it running: it is measured beside
// the builtin in the QPS phase. With the knot backend under test, it
// compares that backend's end-to-end time with the cold load.
func (b *bench) knotColdPhase(ctx context.Context) *target {
	t := &target{name: "Knot"}
	measure := fmt.Sprintf("Knot: start → all %d zones answer SOA", len(b.zones))
	if t.err = ctx.Err(); t.err != nil {
		return t
	}
	if _, err := os.Stat(b.opt.knotdBin); err != nil {
		t.err = err
		b.rep.fail("cold load", measure, err)
		return t
	}
	dir := filepath.Join(b.tmp, "knot")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.err = err
		b.rep.fail("cold load", measure, err)
		return t
	}
	slog.Info("starting knotd", "zones", len(b.zones))
	p, load, d, port, err := b.startOnFreePort(ctx, dir, func(port int) daemon { return b.knotDaemon(dir, port) })
	if err != nil {
		if p != nil {
			p.stop()
		}
		t.err = err
		b.rep.fail("cold load", measure, err)
		return t
	}
	t.port, t.addr, t.proc = port, d.addr, p
	b.coldLoad["Knot"] = load
	b.rep.add("cold load", measure, "%s", secs(load))
	e2e, ok := b.e2e["knot"]
	if !ok || load <= 0 {
		return t
	}
	ratio := e2e.Seconds() / load.Seconds()
	b.rep.addGoal("end-to-end", "knot: end-to-end / knotd's own cold load of the same zones", goal{"≤ 3×", ratio <= 3},
		"%s / %s = %.1f×", secs(e2e), secs(load), ratio)
	return t
}

// knotDaemon is knotd loading the bench's zone files itself, in dir.
func (b *bench) knotDaemon(dir string, port int) daemon {
	cfg := filepath.Join(dir, "knot.conf")
	return daemon{
		name:    "knotd",
		bin:     b.opt.knotdBin,
		check:   []string{b.opt.knotcBin, "-c", cfg, "conf-check"},
		args:    []string{"-c", cfg},
		config:  knotConfig(dir, b.zoneDir, "", port, b.opt.serverThreads, b.zoneFiles()),
		cfgPath: cfg,
		addr:    loopback(port),
	}
}

// zoneFiles maps every zone to its file, for knot.conf.
func (b *bench) zoneFiles() map[string]string {
	files := make(map[string]string, len(b.zones))
	for _, z := range b.zones {
		files[z.name] = zoneFile(b.zoneDir, z)
	}
	return files
}
