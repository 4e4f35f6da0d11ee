package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// servedPoll is how often a backend is asked for a changed zone's serial:
// the resolution of push-to-served times. With every backend of the main
// run probed at once, those with goals of 50 ms and more are asked less
// often (servedPollFor): nine probes at 1 kHz each kept both cores busy
// (four of them SQL queries to mariadbd) and delayed the very push and
// applies being timed.
const servedPoll = time.Millisecond

// servedPollFor is the poll interval of a backend in the main run: a
// 25th of its goal, from servedPoll up to 4 ms.
func servedPollFor(name string) time.Duration {
	return min(max(servedGoals[name]/25, servedPoll), 4*time.Millisecond)
}

// servedTimeout bounds the wait for one backend to serve one change.
const servedTimeout = 20 * time.Second

// servedGoals are the push-to-served goals (median).
var servedGoals = map[string]time.Duration{
	"builtin": 5 * time.Millisecond, "bind": 100 * time.Millisecond,
	"mysql_dc1": 50 * time.Millisecond, "mysql_dc2": 50 * time.Millisecond,
	"knot":     100 * time.Millisecond,
	"pdns_dc1": 50 * time.Millisecond, "pdns_dc2": 50 * time.Millisecond, "pdns_replica_dns": 100 * time.Millisecond,
}

// servedProbe reads the serial a backend serves for a zone.
type servedProbe struct {
	name   string
	serial func(ctx context.Context, zone string) (uint32, error)
	every  time.Duration // poll interval (0: servedPoll)
}

// interval is how often p is asked.
func (p servedProbe) interval() time.Duration {
	if p.every > 0 {
		return p.every
	}
	return servedPoll
}

// probes returns a serial reader per backend under test: DNS for builtin
// and the bind backend's named, the SOA row for coredns_mysql (CoreDNS
// itself is not run; row visibility is what dadns controls).
func (b *bench) probes() []servedProbe {
	dnsProbe := func(name, addr string) servedProbe { return newUDPProber(addr).probe(name) }
	out := []servedProbe{dnsProbe("builtin", b.dadns.dnsAddr)}
	if b.bindHost != nil {
		out = append(out, dnsProbe("bind", b.bindHost.addr))
	}
	for _, m := range b.marias {
		out = append(out, servedProbe{name: m.name, serial: m.soaSerial})
	}
	if b.knotHost != nil {
		out = append(out, dnsProbe("knot", b.knotHost.addr))
	}
	return out
}

// servedPhase changes one zone at a time on the idle system and times,
// per backend, push start → the backend serves the new serial; the
// median of -served-samples changes is reported.
func (b *bench) servedPhase(ctx context.Context) {
	if b.dadns == nil || len(b.current) == 0 || ctx.Err() != nil {
		return
	}
	slog.Info("push-to-served", "samples", b.opt.servedSamples, "backends", b.names)
	probes := append(b.probes(), b.pdnsProbes(ctx)...)
	for i := range probes {
		probes[i].every = servedPollFor(probes[i].name)
	}
	// The builtin, whose goal is a few milliseconds, is timed in rounds
	// of its own, the other backends together in the next rounds: the
	// others' probes (SQL queries among them) would otherwise compete
	// with the push and the apply being timed. The other backends apply
	// every change in both.
	groups := [][]servedProbe{probes[:1], probes[1:]}
	times := map[string][]time.Duration{}
	acks := make([][]time.Duration, len(groups))
	n := 0
	for g, group := range groups {
		if len(group) == 0 {
			continue
		}
		for range b.opt.servedSamples {
			idx := (len(b.current) - 1 - n%len(b.current)) // from the end: the latency runs took the start
			n++
			ack, got, err := b.changeOne(ctx, idx, group)
			if err != nil {
				b.rep.fail("push-to-served", "one zone changed on an idle system", err)
				return
			}
			acks[g] = append(acks[g], ack)
			for name, d := range got {
				times[name] = append(times[name], d)
			}
			if err := awaitIdle(ctx, b.dadns.da, b.names, b.dadns.proc.alive); err != nil {
				b.rep.fail("push-to-served", "backends idle between changes", err)
				return
			}
		}
	}
	b.rep.add("push-to-served", fmt.Sprintf("ack of the change, median of %d (rounds probing the builtin only)", len(acks[0])), "%s", ms(percentile(acks[0], 50)))
	if len(acks[1]) > 0 {
		b.rep.add("push-to-served", fmt.Sprintf("ack of the change, median of %d (rounds probing the other backends)", len(acks[1])), "%s", ms(percentile(acks[1], 50)))
	}
	for _, p := range probes {
		ds := times[p.name]
		measure := fmt.Sprintf("%s: push → new serial served, median (p90) of %d, polled every %s", p.name, len(ds), p.interval())
		if len(ds) < b.opt.servedSamples {
			b.rep.add("push-to-served", measure, "served %d of %d changes within %s", len(ds), b.opt.servedSamples, servedTimeout)
			b.rep.problem(fmt.Sprintf("push-to-served: %s served only %d of %d changes within %s", p.name, len(ds), b.opt.servedSamples, servedTimeout))
			continue
		}
		med := percentile(ds, 50)
		want := servedGoals[p.name]
		b.rep.addGoal("push-to-served", measure, goal{"≤ " + ms(want), med <= want}, "%s (%s)", ms(med), ms(percentile(ds, 90)))
	}
}

// changeOne pushes zone idx with its next serial and waits until every
// probe sees it; it returns the ack latency and, per backend that served
// the change in time, push start → served.
func (b *bench) changeOne(ctx context.Context, idx int, probes []servedProbe) (time.Duration, map[string]time.Duration, error) {
	z := b.current[idx].withSerial(b.current[idx].serial + 1)
	got := map[string]time.Duration{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, servedTimeout)
	defer cancel()
	for _, p := range probes {
		wg.Go(func() {
			if at, ok := awaitSerial(pctx, p, z); ok {
				mu.Lock()
				got[p.name] = at.Sub(start)
				mu.Unlock()
			}
		})
	}
	err := b.dadns.da.rawsave(ctx, z)
	ack := time.Since(start)
	if err != nil {
		cancel()
		wg.Wait()
		return 0, nil, err
	}
	b.current[idx] = z
	wg.Wait()
	return ack, got, nil
}

// awaitSerial polls p until it serves z's serial, and returns when.
func awaitSerial(ctx context.Context, p servedProbe, z *benchZone) (time.Time, bool) {
	for {
		qctx, cancel := context.WithTimeout(ctx, probeTimeout)
		serial, err := p.serial(qctx, z.name)
		cancel()
		if err == nil && serial == z.serial {
			return time.Now(), true
		}
		if pause(ctx, p.interval()) != nil {
			return time.Time{}, false
		}
	}
}
