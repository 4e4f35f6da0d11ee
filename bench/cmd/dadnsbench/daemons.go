package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// daemon is a DNS server compared with dadns: NSD or BIND loading the
// same zone files from disk.
type daemon struct {
	name    string
	bin     string
	check   []string // a config checker and its arguments, run first
	args    []string
	config  string // the config file's text
	cfgPath string
	addr    string // where it answers DNS
}

// startDaemon checks and starts d in dir, then waits until it serves every
// zone; it returns the process and its cold-load time (start → every zone
// answers its SOA serial).
func (b *bench) startDaemon(ctx context.Context, d daemon, dir string) (*proc, time.Duration, error) {
	if err := os.WriteFile(d.cfgPath, []byte(d.config), 0o644); err != nil {
		return nil, 0, fmt.Errorf("dadnsbench: %s config: %w", d.name, err)
	}
	if err := runCheck(ctx, d); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	p, err := b.procs.start(d.name, filepath.Join(dir, d.name+".log"), serverEnv(), d.bin, d.args...)
	if err != nil {
		return nil, 0, err
	}
	lctx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	seen, err := awaitServed(lctx, d.addr, b.zones, allIndices(len(b.zones)), p.alive)
	if err != nil {
		return p, 0, fmt.Errorf("dadnsbench: %s load: %w", d.name, err)
	}
	return p, latest(seen).Sub(start), nil
}

// startOnFreePort starts the daemon mk builds for a port picked now and
// waits for its load, as startDaemon. A daemon that could not bind its
// port (another socket took it between the pick and the daemon's bind:
// seen with 100,000 zones, whose config check takes seconds) is started
// again on a new port, up to three times. It returns the port used.
// Which socket takes the port is not known yet.
func (b *bench) startOnFreePort(ctx context.Context, dir string, mk func(port int) daemon) (*proc, time.Duration, daemon, int, error) {
	for try := 1; ; try++ {
		port, err := b.ports.Next()
		if err != nil {
			return nil, 0, daemon{}, 0, err
		}
		d := mk(port)
		p, load, err := b.startDaemon(ctx, d, dir)
		if err == nil || try == 3 || !portTaken(err) {
			return p, load, d, port, err
		}
		if p != nil {
			p.stop()
		}
		slog.Warn("daemon could not bind its port; starting it on another", "daemon", d.name, "port", port)
	}
}

// portTaken reports whether a daemon's start failed as when its port was
// taken: NSD and Knot log "already in use"; named logs that creating the
// interface failed and then exits on its configuration.
func portTaken(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "in use") || strings.Contains(msg, "creating ipv4 interface")
}

// runCheck runs the daemon's config checker, if it has one.
func runCheck(ctx context.Context, d daemon) error {
	if len(d.check) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, d.check[0], d.check[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("dadnsbench: %s: %s: %w: %.600s", d.name, filepath.Base(d.check[0]), err, out)
	}
	return nil
}

// latest returns the latest of the times.
func latest(ts map[int]time.Time) time.Time {
	var last time.Time
	for _, t := range ts {
		if t.After(last) {
			last = t
		}
	}
	return last
}
