package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// pushPhase starts dadns with every backend under test, pushes every zone
// while waiting for the builtin server to serve each and for /status to
// show each backend done, and reports all three; it returns the builtin
// server.
func (b *bench) pushPhase(ctx context.Context, backends []string) *target {
	t := &target{name: "dadns builtin"}
	slog.Info("starting dadns", "bin", b.opt.dadnsBin, "backends", b.names)
	s, err := b.startDadns(ctx, filepath.Join(b.tmp, "dadns"), backends...)
	if err != nil {
		t.err = err
		b.rep.fail("push", "dadns start", err)
		return t
	}
	b.dadns, t.addr = s, s.dnsAddr
	t.port = portOf(s.dnsAddr)
	slog.Info("pushing zones", "zones", len(b.zones), "pushers", b.opt.pushers)
	ectx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	acked := make(chan int, len(b.zones))
	var seen map[int]time.Time
	var serr error
	var applied map[string]time.Time
	var aerr error
	var wg sync.WaitGroup
	wg.Go(func() { seen, serr = awaitServed(ectx, s.dnsAddr, b.zones, acked, s.proc.alive) })
	cpu0 := takeCPU()
	st := pushAll(ectx, s.da, b.zones, b.opt.pushers, acked)
	// No backend can be done before the last ack: /status is asked only
	// from then on, so that its cost does not slow the pushes.
	applied, aerr = awaitApplied(ectx, s.da, b.names, len(b.zones), st.start, s.proc.alive)
	wg.Wait()
	b.rep.add("end-to-end", "first push → all applied: CPU seconds by process (children waited for included; the bench is dadnsbench)", "%s", cpuUse(cpu0, takeCPU()))
	b.current = slices.Clone(b.zones)
	b.reportPush(st)
	b.reportServed(st, seen, serr)
	b.reportApplied(st, applied, aerr)
	t.err = s.proc.alive() // zones served late or not at all still leave its speed worth measuring
	return t
}

// reportPush reports the acks DirectAdmin would have seen.
func (b *bench) reportPush(st *pushStats) {
	n := len(st.latency)
	b.rep.add("push", "accepted / refused / no reply, of all zones", "%d / %d / %d, of %d", n, st.refused, st.failed, len(b.zones))
	if st.refused > 0 || st.failed > 0 {
		var errs []string
		for _, e := range st.firstErrs {
			errs = append(errs, e.Error())
		}
		b.rep.problem(fmt.Sprintf("push: of %d pushes dadns refused %d (a dadns bug: report it) and left %d without a reply; first: %s",
			len(b.zones), st.refused, st.failed, strings.Join(errs, "; ")))
	}
	if n == 0 {
		return
	}
	b.rep.add("push", fmt.Sprintf("initial load, %d new zones: ack latency p50 / p95 / p99 (new HTTP/1.0 connection each)", len(b.zones)), "%s / %s / %s",
		ms(percentile(st.latency, 50)), ms(percentile(st.latency, 95)), ms(percentile(st.latency, 99)))
	b.rep.add("push", fmt.Sprintf("throughput, %d pushers", b.opt.pushers), "%.0f zones/s", rate(n, st.last.Sub(st.start)))
}

// reportServed reports how long pushed zones took to be served.
func (b *bench) reportServed(st *pushStats, seen map[int]time.Time, err error) {
	const area = "end-to-end"
	if err != nil {
		b.rep.fail(area, "first push → every zone serves its SOA serial", err)
		return
	}
	if len(seen) == 0 {
		return
	}
	e2e := latest(seen).Sub(st.start)
	b.rep.add(area, "builtin: first push → every zone serves its SOA serial (DNS probes)", "%s (%.0f zones/s)", secs(e2e), rate(len(seen), e2e))
	lags := make([]time.Duration, 0, len(seen))
	for i, t := range seen {
		lags = append(lags, t.Sub(st.ackedAt[i]))
	}
	b.rep.add(area, "builtin: ack → served lag p50 / p99", "%s / %s", ms(percentile(lags, 50)), ms(percentile(lags, 99)))
}

// e2eGoals are the end-to-end throughput goals, in zones/s.
var e2eGoals = map[string]float64{"builtin": 5000, "mysql_dc1": 1000, "mysql_dc2": 1000, "pdns_dc1": 1000, "pdns_dc2": 1000}

// reportApplied reports, per backend, the time from the first push until
// /status showed every zone applied and verified on it.
func (b *bench) reportApplied(st *pushStats, doneAt map[string]time.Time, err error) {
	const area = "end-to-end"
	n := len(b.zones)
	b.e2e = map[string]time.Duration{}
	for _, name := range b.names {
		measure := fmt.Sprintf("%s: first push → all %d zones applied and verified (/status, %s)", name, n, statusPollText)
		at, ok := doneAt[name]
		if !ok {
			b.rep.add(area, measure, "not done (see problems)")
			continue
		}
		d := at.Sub(st.start)
		b.e2e[name] = d
		if want, ok := e2eGoals[name]; ok {
			b.rep.addGoal(area, measure, goal{fmt.Sprintf("≥ %s zones/s", thousands(want)), rate(n, d) >= want}, "%s (%s zones/s)", secs(d), thousands(rate(n, d)))
		} else {
			b.rep.add(area, measure, "%s (%s zones/s)", secs(d), thousands(rate(n, d)))
		}
	}
	b.reportBothDatabases(n)
	b.reportBothPowerDNS(n)
	if err != nil {
		b.rep.problem("end-to-end: " + err.Error())
	}
}

// reportBothDatabases reports the coredns_mysql instances together: the
// time until both databases hold every zone.
func (b *bench) reportBothDatabases(n int) {
	if len(b.marias) < 2 {
		return
	}
	var slowest time.Duration
	for _, m := range b.marias {
		d, ok := b.e2e[m.name]
		if !ok {
			return
		}
		slowest = max(slowest, d)
	}
	b.rep.addGoal("end-to-end", fmt.Sprintf("coredns_mysql: all %d zones in both databases", n), goal{"≥ 1,000 zones/s", rate(n, slowest) >= 1000},
		"%s (%s zones/s)", secs(slowest), thousands(rate(n, slowest)))
}
