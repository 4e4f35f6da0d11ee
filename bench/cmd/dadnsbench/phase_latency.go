package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ackGoal is the goal for the ack p99 at goalPushers.
const (
	ackGoal     = 10 * time.Millisecond
	goalPushers = 16
)

// latencyRun is what one run of DirectAdmin requests at one concurrency
// measured.
type latencyRun struct {
	start, end time.Time
	push       []time.Duration // accepted re-pushes, request start to reply
	exists     []time.Duration // exists checks answered exists=1
	refused    int
	failed     int
	firstErrs  []error
}

// latencyPhase runs, for each -concurrency level, -latency-pushes
// DirectAdmin requests against the loaded dadns: re-pushes of loaded zones
// with new serials, every -exists-every-th an exists check. Between levels
// it waits until every backend has caught up, so each starts idle.
func (b *bench) latencyPhase(ctx context.Context) {
	if b.dadns == nil || len(b.current) == 0 || ctx.Err() != nil {
		return
	}
	levels, _ := b.opt.levels()
	cursor := 0
	for _, c := range levels {
		slog.Info("ack latency run", "pushers", c, "requests", b.opt.latencyPushes)
		run := b.latencyRun(ctx, c, cursor)
		cursor += len(run.push)
		b.reportLatency(c, run)
		ictx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
		err := awaitIdle(ictx, b.dadns.da, b.names, b.dadns.proc.alive)
		cancel()
		if err != nil {
			b.rep.problem(fmt.Sprintf("push: after the run at C = %d: %v", c, err))
			return
		}
	}
}

// request is one DirectAdmin request of a latency run: an exists check
// or a re-push of a zone with its next serial.
type request struct {
	exists bool
	zone   int
}

// plan lists the requests of one run: every -exists-every-th an exists
// check, the others re-pushes of the zones from cursor on, each zone at
// most once per run (two pushes of one zone in flight would race).
func (b *bench) plan(cursor int) []request {
	n := len(b.current)
	var out []request
	pushes := 0
	for k := range b.opt.latencyPushes {
		switch {
		case b.opt.existsEvery > 0 && k%b.opt.existsEvery == b.opt.existsEvery-1:
			out = append(out, request{exists: true, zone: (k * 7919) % n})
		case pushes < n:
			out = append(out, request{zone: (cursor + pushes) % n})
			pushes++
		}
	}
	return out
}

// latencyRun sends the requests of one run with c concurrent clients.
func (b *bench) latencyRun(ctx context.Context, c, cursor int) *latencyRun {
	run := &latencyRun{start: time.Now()}
	var mu sync.Mutex
	work := make(chan request)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for r := range work {
				kind, d, err := b.send(ctx, r)
				mu.Lock()
				run.note(ctx, kind, d, err)
				mu.Unlock()
			}
		})
	}
	for _, r := range b.plan(cursor) {
		if ended(ctx) {
			break
		}
		work <- r
	}
	close(work)
	wg.Wait()
	run.end = time.Now()
	return run
}

// send sends one request and returns its kind, latency and outcome.
func (b *bench) send(ctx context.Context, r request) (string, time.Duration, error) {
	if r.exists {
		t0 := time.Now()
		err := b.dadns.da.exists(ctx, b.zones[r.zone]) // b.zones: names only, never written
		return "exists", time.Since(t0), err
	}
	z := b.current[r.zone].withSerial(b.current[r.zone].serial + 1)
	t0 := time.Now()
	err := b.dadns.da.rawsave(ctx, z)
	d := time.Since(t0)
	if err == nil {
		b.current[r.zone] = z // only this request touches the zone in this run
	}
	return "push", d, err
}

// note records one request's outcome; requests cut short because the
// run is ending count as neither success nor failure.
func (r *latencyRun) note(ctx context.Context, kind string, d time.Duration, err error) {
	var ref *refusal
	switch {
	case err == nil && kind == "exists":
		r.exists = append(r.exists, d)
		return
	case err == nil:
		r.push = append(r.push, d)
		return
	case errors.As(err, &ref):
		r.refused++
	case ended(ctx):
		return
	default:
		r.failed++
	}
	if len(r.firstErrs) < 5 {
		r.firstErrs = append(r.firstErrs, err)
	}
}

// reportLatency adds one level's row, with the goal at goalPushers.
func (b *bench) reportLatency(c int, run *latencyRun) {
	measure := fmt.Sprintf("ack latency p50 / p95 / p99, C = %d: %d re-pushes with new serials + %d exists checks, backends applying meanwhile",
		c, len(run.push), len(run.exists))
	if run.refused+run.failed > 0 {
		var errs []string
		for _, e := range run.firstErrs {
			errs = append(errs, e.Error())
		}
		b.rep.problem(fmt.Sprintf("push: at C = %d dadns refused %d requests (a dadns bug: report it) and left %d without a reply; first: %s",
			c, run.refused, run.failed, strings.Join(errs, "; ")))
	}
	if len(run.push) == 0 {
		b.rep.add("push", measure, "no push accepted")
		return
	}
	p99 := percentile(run.push, 99)
	value := fmt.Sprintf("%s / %s / %s; exists p50 / p99 %s / %s; %.0f requests/s",
		ms(percentile(run.push, 50)), ms(percentile(run.push, 95)), ms(p99),
		ms(percentile(run.exists, 50)), ms(percentile(run.exists, 99)),
		rate(len(run.push)+len(run.exists), run.end.Sub(run.start)))
	if c == goalPushers {
		b.rep.addGoal("push", measure, goal{"p99 ≤ 10 ms, acks durable (fsync)", p99 <= ackGoal}, "%s", value)
		return
	}
	b.rep.add("push", measure, "%s", value)
}
