package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// restartAskers is how many clients ask for held zones while dadns
// restarts, each one question at a time.
const restartAskers = 2

// restartPhase stops dadns (SIGTERM) and starts it again on the same data
// and ports while clients ask for held zones without pause from the moment
// it starts: how many of those questions were answered REFUSED, and how
// long until every zone answered its SOA serial, beside NSD's cold load
// of the same zones. It runs last: the restarted process has not been
// through the pushes, so its memory is not the one footprint reports.
func (b *bench) restartPhase(ctx context.Context) {
	s := b.dadns
	if s == nil || len(b.current) == 0 || ctx.Err() != nil || s.proc.alive() != nil {
		return
	}
	measure := fmt.Sprintf("restart with %d zones held: start → every zone answers its SOA serial", len(b.current))
	slog.Info("restarting dadns", "zones", len(b.current))
	s.proc.stop()
	counter := startRefusalCounter(ctx, s.dnsAddr, b.current)
	start := time.Now()
	p, err := b.procs.start("dadns", filepath.Join(filepath.Dir(s.cfgPath), "dadns-restart.log"), b.dadnsEnv(), b.opt.dadnsBin, "--config", s.cfgPath, "serve")
	if err != nil {
		counter.stop()
		b.rep.fail("restart", measure, err)
		return
	}
	s.proc = p
	lctx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	seen, err := awaitServed(lctx, s.dnsAddr, b.current, allIndices(len(b.current)), p.alive)
	asked, refused := counter.stop()
	if err != nil {
		b.rep.fail("restart", measure, err)
		return
	}
	all := latest(seen).Sub(start)
	if cold, ok := b.coldLoad["NSD"]; ok && cold > 0 {
		r := all.Seconds() / cold.Seconds()
		b.rep.addGoal("restart", measure, goal{"≤ 1.5× NSD's cold load", r <= 1.5}, "%s (NSD's cold load: %s; %.2f×)", secs(all), secs(cold), r)
	} else {
		b.rep.add("restart", measure, "%s", secs(all))
	}
	b.rep.addGoal("restart", fmt.Sprintf("questions about held zones answered REFUSED during the restart (%d clients asking without pause)", restartAskers),
		goal{"0", refused == 0}, "%d of %d answered", refused, asked)
}

// refusalCounter asks for the SOA of held zones in turn and counts the
// REFUSED answers among all answers received.
type refusalCounter struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	asked   atomic.Int64
	refused atomic.Int64
}

func startRefusalCounter(ctx context.Context, addr string, zones []*benchZone) *refusalCounter {
	ctx, cancel := context.WithCancel(ctx)
	rc := &refusalCounter{cancel: cancel}
	for w := range restartAskers {
		rc.wg.Add(1)
		go func() {
			defer rc.wg.Done()
			c := &dns.Client{Net: "udp", Timeout: probeTimeout}
			for i := w; ctx.Err() == nil; i += restartAskers {
				rc.ask(ctx, c, addr, zones[i%len(zones)].name)
			}
		}()
	}
	return rc
}

func (rc *refusalCounter) ask(ctx context.Context, c *dns.Client, addr, zone string) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	m.RecursionDesired = false
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		_ = pause(ctx, 2*time.Millisecond) // not listening yet
		return
	}
	rc.asked.Add(1)
	if r.Rcode == dns.RcodeRefused {
		rc.refused.Add(1)
	}
}

// stop ends the asking and returns how many answers came and how many of
// them were REFUSED.
func (rc *refusalCounter) stop() (asked, refused int64) {
	rc.cancel()
	rc.wg.Wait()
	return rc.asked.Load(), rc.refused.Load()
}
