package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// burstPhase measures whether a push slows the answers for other zones
// (issue 14: per-zone cache invalidation): dnsperf against the deployed
// builtin-only dadns with the system idle, and the same while
// -burst-pushers re-push zones with new serials at -burst-rate a second
// for the length of the run, interleaved over -rounds. The pushes use
// CPU too (HTTP, parsing, the store's fsync): the ratio is an upper
// bound on what invalidation costs.
func (b *bench) burstPhase(ctx context.Context, serving *servingSet) {
	s := serving.servers["deployed"]
	if s == nil || ctx.Err() != nil || b.opt.skipped()["burst"] {
		return
	}
	var idle, burst []perfResult
	var acked, refused int
	var spent time.Duration
	var lat []time.Duration
	cursor := 0
	bumps := map[int]uint32{}
	for round := range b.opt.rounds {
		slog.Info("dnsperf idle", "round", round+1)
		p, err := b.runDnsperf(ctx, s.dnsAddr, b.queryFile)
		if err != nil {
			b.rep.fail("burst", "dnsperf idle", err)
			return
		}
		idle = append(idle, p)
		slog.Info("dnsperf during a push burst", "round", round+1, "rate", b.opt.burstRate)
		bctx, stop := context.WithCancel(ctx)
		var res burstResult
		var wg sync.WaitGroup
		wg.Go(func() { res = b.pushBurst(bctx, s.da, cursor, bumps) })
		p, err = b.runDnsperf(ctx, s.dnsAddr, b.queryFile)
		stop()
		wg.Wait()
		if err != nil {
			b.rep.fail("burst", "dnsperf during a push burst", err)
			return
		}
		burst = append(burst, p)
		cursor = res.next
		acked, refused, spent = acked+len(res.latency), refused+res.refused, spent+res.elapsed
		lat = append(lat, res.latency...)
	}
	mi, mb := medianRun(idle), medianRun(burst)
	b.rep.add("burst", fmt.Sprintf("deployed builtin: QPS idle (median of %d rounds)", len(idle)), "%s", thousands(mi.qps))
	b.rep.add("burst", fmt.Sprintf("deployed builtin: QPS while %d pushers re-push zones at up to %d/s (median of %d rounds)", b.opt.burstPushers, b.opt.burstRate, len(burst)),
		"%s; %d re-pushes acked (%.0f/s), %d refused, ack p50 / p99 %s / %s", thousands(mb.qps), acked, rate(acked, spent), refused,
		ms(percentile(lat, 50)), ms(percentile(lat, 99)))
	if mi.qps > 0 {
		b.rep.add("burst", "QPS during the burst / idle", "%.2f", mb.qps/mi.qps)
	}
	if refused > 0 {
		b.rep.problem(fmt.Sprintf("burst: dadns refused %d re-pushes (a dadns bug: report it)", refused))
	}
}

// burstResult is what one push burst did.
type burstResult struct {
	latency []time.Duration
	refused int
	elapsed time.Duration
	next    int // the zone index the next burst starts from
}

// pushBurst re-pushes zones from cursor on, each with its next serial, at
// -burst-rate a second with -burst-pushers pushers, until ctx ends.
func (b *bench) pushBurst(ctx context.Context, da *daClient, cursor int, bumps map[int]uint32) burstResult {
	var res burstResult
	start := time.Now()
	work := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range b.opt.burstPushers {
		wg.Go(func() {
			for i := range work {
				mu.Lock()
				bumps[i]++
				z := b.zones[i].withSerial(b.zones[i].serial + bumps[i])
				mu.Unlock()
				t0 := time.Now()
				err := da.rawsave(ctx, z)
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err == nil:
					res.latency = append(res.latency, d)
				case ended(ctx):
				default:
					res.refused++
				}
				mu.Unlock()
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(b.opt.burstRate))
	defer tick.Stop()
	i := cursor
feed:
	for {
		select {
		case <-ctx.Done():
			break feed
		case <-tick.C:
			select {
			case work <- i % len(b.zones):
				i++
			case <-ctx.Done():
				break feed
			default: // every pusher busy: the burst runs below its rate
			}
		}
	}
	close(work)
	wg.Wait()
	res.elapsed, res.next = time.Since(start), i
	return res
}
