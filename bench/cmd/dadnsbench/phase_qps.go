package main

import (
	"context"
	"log/slog"
)

// qpsPhase runs dnsperf against every server that serves, in rounds that
// take the servers in turn (so a busy spell of the machine hits them all
// alike), and reports each one's median round and the builtin server's
// speed relative to the others.
func (b *bench) qpsPhase(ctx context.Context, builtin *target, daemons []*target) {
	all := append([]*target{builtin}, daemons...)
	for round := range b.opt.rounds {
		for _, t := range all {
			if t.err != nil || ctx.Err() != nil {
				continue
			}
			slog.Info("dnsperf", "server", t.name, "round", round+1, "seconds", b.roundSeconds())
			p, err := b.runDnsperf(ctx, t.port, b.queryFile)
			if err != nil {
				t.err = err
				b.rep.fail("dns", t.name+" QPS", err)
				continue
			}
			t.runs = append(t.runs, p)
		}
	}
	b.rep.servers = all
	b.reportQPS(builtin, daemons)
}

// reportQPS adds each measured server's median QPS and the ratios.
func (b *bench) reportQPS(builtin *target, daemons []*target) {
	for _, t := range append([]*target{builtin}, daemons...) {
		if t.measured() {
			b.rep.add("dns", t.name+" QPS (median round)", "%s", thousands(medianRun(t.runs).qps))
		}
	}
	for _, d := range daemons {
		if !builtin.measured() || !d.measured() || medianRun(d.runs).qps <= 0 {
			continue
		}
		ratio := medianRun(builtin.runs).qps / medianRun(d.runs).qps
		if d.name == "NSD" {
			b.rep.addGoal("dns", "builtin / NSD QPS", goal{"≥ 1.00", ratio >= 1}, "%.2f", ratio)
		} else {
			b.rep.add("dns", "builtin / "+d.name+" QPS", "%.2f", ratio)
		}
	}
}

// measured reports whether every dnsperf round of t succeeded.
func (t *target) measured() bool {
	return t.err == nil && len(t.runs) > 0
}
