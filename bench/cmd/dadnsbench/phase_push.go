package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// pushPhase starts dadns, pushes every zone while waiting for the builtin
// server to serve each, and reports both; it returns the builtin server.
func (b *bench) pushPhase(ctx context.Context) *target {
	t := &target{name: "dadns builtin"}
	slog.Info("starting dadns", "bin", b.opt.dadnsBin)
	s, err := b.startDadns(ctx, filepath.Join(b.tmp, "dadns"))
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
	done := make(chan struct{})
	go func() {
		seen, serr = awaitServed(ectx, s.dnsAddr, b.zones, acked, s.proc.alive)
		close(done)
	}()
	st := pushAll(ectx, s.da, b.zones, b.opt.pushers, acked)
	<-done
	b.reportPush(st)
	b.reportServed(st, seen, serr)
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
	b.rep.add("push", "ack latency p50 / p95 / p99 (new HTTP/1.0 connection each)", "%s / %s / %s",
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
	b.rep.add(area, "first push → every zone serves its SOA serial (builtin)", "%s (%.0f zones/s)", secs(e2e), rate(len(seen), e2e))
	lags := make([]time.Duration, 0, len(seen))
	for i, t := range seen {
		lags = append(lags, t.Sub(st.ackedAt[i]))
	}
	b.rep.add(area, "ack → served lag p50 / p99", "%s / %s", ms(percentile(lags, 50)), ms(percentile(lags, 99)))
}
