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
	all := qpsTargets(serving, daemons)
	before, berr := rrlCounters(ctx, serving.servers["rrl"])
	for round := range b.opt.rounds {
		for _, t := range all {
			if t.err != nil || ctx.Err() != nil {
				continue
			}
			slog.Info("dnsperf", "server", t.name, "round", round+1, "seconds", b.roundSeconds())
			var cpu0 float64
			if t.proc != nil {
				cpu0 = groupCPU(t.proc.cmd.Process.Pid)
			}
			p, err := b.runDnsperf(ctx, t.addr, b.queryFile)
			if err != nil {
				t.err = err
				b.rep.fail("dns", t.name+" QPS", err)
				continue
			}
			if t.proc != nil {
				p.cpu = groupCPU(t.proc.cmd.Process.Pid) - cpu0
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
	b.reportCPUPerQuery(qpsTargets(serving, daemons))
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

// qpsTargets is every QPS target, the builtin variants first.
func qpsTargets(serving *servingSet, daemons []*target) []*target {
	return append(append([]*target{}, serving.targets...), daemons...)
}

// cpuPerQuery is the server's CPU time per answered query over the median
// QPS round, in µs; false when unknown.
func (t *target) cpuPerQuery() (float64, bool) {
	if !t.measured() {
		return 0, false
	}
	r := medianRun(t.runs)
	if r.cpu <= 0 || r.completed <= 0 {
		return 0, false
	}
	return r.cpu * 1e6 / float64(r.completed), true
}

// reportCPUPerQuery reports each server's CPU per answered query (its
// processes' CPU time over its median round, whatever dnsperf and the
// machine's other load took), and the deployed builtin's beside Knot's
// and NSD's: what QPS would be if the server had the machine to itself.
func (b *bench) reportCPUPerQuery(ts []*target) {
	per := map[string]float64{}
	for _, t := range ts {
		if v, ok := t.cpuPerQuery(); ok {
			per[t.name] = v
			b.rep.add("dns", t.name+": CPU per answered query (its processes' CPU time over its median round)", "%.2f µs", v)
		}
	}
	deployed := servingVariants[0].name
	for _, other := range []string{"Knot", "NSD"} {
		if d, o := per[deployed], per[other]; d > 0 && o > 0 {
			b.rep.add("dns", fmt.Sprintf("%s / %s: CPU per query", deployed, other), "%.2f", d/o)
		}
	}
	// What the defaults and the address sockets cost or save per query,
	// free of dnsperf's share of the machine.
	byKey := map[string]string{}
	for _, v := range servingVariants {
		byKey[v.key] = v.name
	}
	for _, c := range []struct{ label, a, b string }{
		{"shipped defaults / RRL and cookies off: CPU per query", "deployed", "off"},
		{"RRL accounting every answer + cookies / RRL and cookies off: CPU per query", "rrl", "off"},
		{"builtin on 0.0.0.0 with address sockets (deployed) / wildcard sockets only: CPU per query", "deployed", "wild"},
	} {
		if x, y := per[byKey[c.a]], per[byKey[c.b]]; x > 0 && y > 0 {
			b.rep.add("dns", c.label, "%.2f", x/y)
		}
	}
}
