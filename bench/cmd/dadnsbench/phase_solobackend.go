package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// soloBackend is a backend that drives a DNS daemon, measured alone
// beside the builtin in a fresh dadns (issue 15: nsd and knot; issue 14:
// bind): every
// zone pushed, first push → all applied and verified on the daemon,
// against the daemon's own cold load of the same files (goal ≤ 3×), then
// single-zone changes timed until the daemon serves them (goal ≤ 100 ms
// median).
type soloBackend struct {
	key    string // its -phases / -skip name
	name   string // the backend's name in dadns and in the report
	daemon string // the daemon's name in the cold load phase (coldLoad key)
	fact   string // how dadns drives it, for the report's facts
	// start starts the daemon the backend drives, in dir.
	start func(ctx context.Context, dir string) (soloHost, error)
	// cold is the daemon loading the bench's zone files itself, in dir.
	cold func(dir string, port int) daemon
}

// soloHost is a started daemon that a backend drives.
type soloHost interface {
	backendYAML() string // the dns.backends entry driving it
	dnsAddr() string     // where it answers DNS
	stop()
}

// soloBackends are the backends measured alone, in the order they run.
func (b *bench) soloBackends() []soloBackend {
	return []soloBackend{{
		key: "bindbackend", name: "bind", daemon: "BIND",
		fact: "a fresh dadns (builtin + bind) drives its own named: zone files, the include it owns, one rndc reconfig per batch that adds zones and rndc reload per changed zone (see internal/backend/bind/README.md), SOA verification",
		start: func(ctx context.Context, dir string) (soloHost, error) {
			h, err := b.startBindHost(ctx, dir)
			if h == nil {
				return nil, err
			}
			return bindSolo{h, b.opt.rndcBin}, err
		},
		cold: func(dir string, port int) daemon { return b.bindDaemon(dir, b.zoneDir, port) },
	}, {
		key: "nsdbackend", name: "nsd", daemon: "NSD",
		fact: "a fresh dadns (builtin + nsd) drives its own NSD: addzone mode under a pattern, nsd-control's protocol on NSD's local control socket, nsd-checkzone only where the backend needs it (see internal/backend/nsd/README.md), SOA verification over TCP",
		start: func(ctx context.Context, dir string) (soloHost, error) {
			h, err := b.startNSDBackendHost(ctx, dir)
			if h == nil {
				return nil, err
			}
			return nsdSolo{h, b.opt.nsdBin}, err
		},
		cold: func(dir string, port int) daemon { return b.nsdDaemon(dir, b.zoneDir, port) },
	}, {
		key: "knotbackend", name: "knot", daemon: "Knot",
		fact: "a fresh dadns (builtin + knot) drives its own knotd: zones added with conf transactions over knotd's control socket (knotctl), contents by zone file + zone-reload (see internal/backend/knot/README.md), SOA verification",
		start: func(ctx context.Context, dir string) (soloHost, error) {
			h, err := b.startKnotHost(ctx, dir)
			if h == nil {
				return nil, err
			}
			return knotSolo{h, b.opt.knotcBin}, err
		},
		cold: func(dir string, port int) daemon { return b.knotDaemon(dir, port) },
	}}
}

// bindSolo, nsdSolo and knotSolo adapt the hosts to soloHost.
type bindSolo struct {
	*bindHost
	rndc string
}

func (h bindSolo) backendYAML() string { return h.bindHost.backendYAML(h.rndc) }
func (h bindSolo) dnsAddr() string     { return h.addr }
func (h bindSolo) stop()               { h.proc.stop() }

type nsdSolo struct {
	*nsdBackendHost
	nsdBin string
}

func (h nsdSolo) backendYAML() string { return h.nsdBackendHost.backendYAML(h.nsdBin) }

type knotSolo struct {
	*knotHost
	knotc string
}

func (h knotSolo) backendYAML() string { return h.knotHost.backendYAML(h.knotc) }
func (h knotSolo) dnsAddr() string     { return h.addr }
func (h knotSolo) stop()               { h.proc.stop() }

// soloBackendPhase runs sb's measurements and stops what it started.
func (b *bench) soloBackendPhase(ctx context.Context, sb soloBackend) {
	area := sb.name + " backend"
	if ctx.Err() != nil {
		return
	}
	slog.Info(area+": starting its daemon", "daemon", sb.daemon)
	dir := filepath.Join(b.tmp, sb.name+"-solo") // not the main run's backend daemons' dirs
	h, err := sb.start(ctx, dir)
	if h != nil {
		defer h.stop()
	}
	if err != nil {
		b.rep.fail(area, area+"'s "+sb.daemon, err)
		return
	}
	s, err := b.startDadns(ctx, filepath.Join(dir, "dadns"), h.backendYAML())
	if err != nil {
		b.rep.fail(area, "dadns start (builtin + "+sb.name+")", err)
		return
	}
	defer s.proc.stop()
	b.rep.fact(area, "%s", sb.fact)
	names := []string{"builtin", sb.name}
	n := len(b.zones)
	slog.Info(area+": pushing zones", "zones", n, "pushers", b.opt.pushers)
	ectx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	cpu0 := takeCPU()
	st := pushAll(ectx, s.da, b.zones, b.opt.pushers, make(chan int, n))
	done, aerr := awaitApplied(ectx, s.da, names, n, st.start, s.proc.alive)
	cancel()
	b.rep.add(area, "first push → all applied: CPU seconds by process (children waited for included; the bench is dadnsbench)", "%s", cpuUse(cpu0, takeCPU()))
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
	b.soloBackendCold(ctx, sb, area, done[sb.name].Sub(st.start), done["builtin"].Sub(st.start))
	b.soloBackendServed(ctx, sb, area, s, h)
}

// soloBackendCold compares the backend's end-to-end time with its
// daemon's own cold load of the same zone files: the cold load phase's
// figure when it ran, else a cold start of its own.
func (b *bench) soloBackendCold(ctx context.Context, sb soloBackend, area string, e2e, builtin time.Duration) {
	cold, ok := b.coldLoad[sb.daemon]
	if !ok && ctx.Err() == nil {
		port, err := b.ports.Next()
		dir := filepath.Join(b.tmp, sb.name+"-cold")
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			b.rep.fail(area, sb.daemon+"'s own cold load", err)
			return
		}
		slog.Info(area+": the daemon's own cold load", "daemon", sb.daemon, "zones", len(b.zones))
		p, load, err := b.startDaemon(ctx, sb.cold(dir, port), dir)
		if p != nil {
			p.stop()
		}
		if err != nil {
			b.rep.fail(area, sb.daemon+"'s own cold load", err)
			return
		}
		cold, ok = load, true
		b.rep.add(area, fmt.Sprintf("%s: start → all %d zones answer SOA (cold load of the same files)", sb.daemon, len(b.zones)), "%s", secs(cold))
	}
	if !ok || cold <= 0 || e2e <= 0 {
		return
	}
	ratio := e2e.Seconds() / cold.Seconds()
	b.rep.addGoal(area, fmt.Sprintf("%s: end-to-end / %s's own cold load of the same zones", sb.name, sb.daemon), goal{"≤ 3×", ratio <= 3}, "%s / %s = %.1f×", secs(e2e), secs(cold), ratio)
	if builtin > 0 {
		b.rep.add(area, fmt.Sprintf("%s end-to-end / builtin end-to-end in the same dadns (what the %s backend adds to ingestion)", sb.name, sb.name), "%.2f×", e2e.Seconds()/builtin.Seconds())
	}
}

// soloBackendServed times -served-samples single-zone changes from the
// push until the daemon (and builtin) serve the new serial, on the idle
// system.
func (b *bench) soloBackendServed(ctx context.Context, sb soloBackend, area string, s *dadnsServer, h soloHost) {
	if ctx.Err() != nil {
		return
	}
	probe := func(name, addr string) servedProbe { return newUDPProber(addr).probe(name) }
	probes := []servedProbe{probe("builtin", s.dnsAddr), probe(sb.name, h.dnsAddr())}
	names := []string{"builtin", sb.name}
	current := slices.Clone(b.zones)
	times := map[string][]time.Duration{}
	slog.Info(area+": push-to-served", "samples", b.opt.servedSamples)
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
		measure := fmt.Sprintf("%s: push → new serial served, median (p90) of %d, polled every %s", p.name, len(ds), p.interval())
		if len(ds) < b.opt.servedSamples {
			b.rep.add(area, measure, "served %d of %d changes within %s", len(ds), b.opt.servedSamples, servedTimeout)
			b.rep.problem(fmt.Sprintf("%s: %s served only %d of %d changes within %s", area, p.name, len(ds), b.opt.servedSamples, servedTimeout))
			continue
		}
		med := percentile(ds, 50)
		if p.name == sb.name {
			b.rep.addGoal(area, measure, goal{"≤ 100.00 ms", med <= 100*time.Millisecond}, "%s (%s)", ms(med), ms(percentile(ds, 90)))
		} else {
			b.rep.add(area, measure, "%s (%s)", ms(med), ms(percentile(ds, 90)))
		}
	}
}
