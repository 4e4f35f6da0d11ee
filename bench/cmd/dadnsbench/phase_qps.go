package main

import (
	"context"
	"fmt"
	"log/slog"
)

// qpsPhase runs dnsperf against every server that serves, in rounds that
// take the servers in turn (so a busy spell of the machine hits them all
// alike), and reports each one's median round and the builtin server's
// speed relative to the others. The builtin servers are the builtin-only
// dadns variants of servingPhase; the RRL variant's counters are read
// before and after, to show whether the query mix stayed below the limit.
func (b *bench) qpsPhase(ctx context.Context, serving *servingSet, daemons []*target) {
	all := append(append([]*target{}, serving.targets...), daemons...)
	before, berr := rrlCounters(ctx, serving.servers["rrl"])
	for round := range b.opt.rounds {
		for _, t := range all {
			if t.err != nil || ctx.Err() != nil {
				continue
			}
			slog.Info("dnsperf", "server", t.name, "round", round+1, "seconds", b.roundSeconds())
			p, err := b.runDnsperf(ctx, t.addr, b.queryFile)
			if err != nil {
				t.err = err
				b.rep.fail("dns", t.name+" QPS", err)
				continue
			}
			t.runs = append(t.runs, p)
		}
	}
	after, aerr := rrlCounters(ctx, serving.servers["rrl"])
	b.rep.servers = all
	b.reportQPS(serving, daemons)
	b.cacheMemory(serving.servers["deployed"])
	if s := serving.servers["rrl"]; s != nil && ctx.Err() == nil {
		measure := "RRL accounting every answer: answers limited / slipped (TC=1) / dropped during its dnsperf rounds"
		if berr != nil || aerr != nil {
			b.rep.add("dns", measure, "counters not read: %v", firstErr(berr, aerr))
		} else {
			b.rep.add("dns", measure, "%d / %d / %d", after.limited-before.limited, after.slipped-before.slipped, after.dropped-before.dropped)
		}
	}
}

// reportQPS adds each measured server's median QPS and the ratios the
// issues set goals for.
func (b *bench) reportQPS(serving *servingSet, daemons []*target) {
	for _, t := range append(append([]*target{}, serving.targets...), daemons...) {
		if t.measured() {
			b.rep.add("dns", t.name+" QPS (median round)", "%s", thousands(medianRun(t.runs).qps))
		}
	}
	byName := map[string]*target{}
	for _, d := range daemons {
		byName[d.name] = d
	}
	ratio := func(a, c *target) (float64, bool) {
		if a == nil || c == nil || !a.measured() || !c.measured() || medianRun(c.runs).qps <= 0 {
			return 0, false
		}
		return medianRun(a.runs).qps / medianRun(c.runs).qps, true
	}
	for _, key := range []string{"deployed", "v6"} {
		t := serving.byKey[key]
		for _, other := range []string{"NSD", "Knot", "BIND"} {
			r, ok := ratio(t, byName[other])
			if !ok {
				continue
			}
			label := fmt.Sprintf("%s / %s QPS", t.name, other)
			if other == "BIND" {
				b.rep.add("dns", label, "%.2f", r)
				continue
			}
			b.rep.addGoal("dns", label, goal{"≥ 1.00", r >= 1}, "%.2f", r)
		}
	}
	if r, ok := ratio(serving.byKey["deployed"], serving.byKey["lo"]); ok {
		b.rep.add("dns", "builtin on 0.0.0.0 / on 127.0.0.1 QPS (same defaults)", "%.2f", r)
	}
	if r, ok := ratio(serving.byKey["wild"], serving.byKey["deployed"]); ok {
		b.rep.add("dns", "builtin on 0.0.0.0: wildcard sockets only / with address sockets (deployed) QPS", "%.2f", r)
	}
	off := serving.byKey["off"]
	if r, ok := ratio(serving.byKey["deployed"], off); ok {
		b.rep.addGoal("dns", "shipped defaults (RRL on, loopback exempt; cookies on) / RRL and cookies off QPS", goal{"≥ 0.95", r >= 0.95}, "%.2f", r)
	}
	if r, ok := ratio(serving.byKey["rrl"], off); ok {
		b.rep.addGoal("dns", "RRL accounting every answer + cookies on / RRL and cookies off QPS", goal{"≥ 0.95", r >= 0.95}, "%.2f", r)
	}
}

// measured reports whether every dnsperf round of t succeeded.
func (t *target) measured() bool {
	return t.err == nil && len(t.runs) > 0
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// cacheMemory reports the deployed variant's memory after its dnsperf
// rounds, with the answers it keeps ready filled by the query mix, beside
// NSD's (which holds its answers precompiled from the start).
func (b *bench) cacheMemory(s *dadnsServer) {
	if s == nil || s.proc == nil || s.proc.cmd.Process == nil {
		return
	}
	rss, err := procStatus(s.proc.cmd.Process.Pid, "VmRSS")
	if err != nil {
		b.rep.fail("memory", "builtin-only dadns RSS after the QPS rounds", err)
		return
	}
	records := int64(len(b.zones) * zoneRecords)
	b.rep.add("memory", "builtin-only dadns on 0.0.0.0: RSS after its dnsperf rounds (answer cache filled by the query mix)",
		"%s; %.0f bytes per record", mib(rss), float64(rss)/float64(records))
	if b.nsdPSS > 0 {
		r := float64(rss) / float64(b.nsdPSS)
		b.rep.addGoal("memory", "builtin-only dadns RSS after the QPS rounds / NSD's PSS", goal{"≤ 2×", r <= 2}, "%.2f×", r)
	}
}
