package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// floodPhase floods a dadns with RRL in effect for 127.0.0.1 (the rrl
// variant: no exempt prefix; the shipped defaults exempt loopback) and
// NSD (Debian's build, RRL on by default) in turn: dnsperf from 127.0.0.1
// with -flood-clients clients and up to -flood-outstanding queries
// outstanding for -flood-duration, asking four names of one zone, while a
// second client on another /24 (127.0.1.2) asks 100 queries a second over
// 20 names of other zones. It reports the flood's answered share, the
// second client's, peak memory and (dadns) goroutines.
func (b *bench) floodPhase(ctx context.Context, serving *servingSet, daemons []*target) {
	if ctx.Err() != nil || b.opt.skipped()["flood"] || len(b.zones) < 21 {
		return
	}
	file := filepath.Join(b.tmp, "flood.txt")
	z := b.zones[0].name
	if err := os.WriteFile(file, []byte(fmt.Sprintf("www.%[1]s. A\n%[1]s. A\nn1.%[1]s. A\nx.%[1]s. A\n", z)), 0o644); err != nil {
		b.rep.fail("flood", "query file", err)
		return
	}
	var names []string
	for _, q := range b.zones[1:21] {
		names = append(names, "www."+q.name+".")
	}
	if s := serving.servers["rrl"]; s != nil {
		b.floodOne(ctx, "dadns builtin 0.0.0.0, RRL (defaults, no exempt prefix)", s.dnsAddr, s.proc, s, file, names)
	} else if s := serving.servers["deployed"]; s != nil {
		b.floodOne(ctx, "dadns builtin 0.0.0.0, shipped defaults (loopback exempt from RRL)", s.dnsAddr, s.proc, s, file, names)
	}
	for _, t := range daemons {
		if t.name == "NSD" && t.proc != nil && t.err == nil {
			b.floodOne(ctx, "NSD (RRL on, Debian's defaults)", t.addr, t.proc, nil, file, names)
		}
	}
}

// floodOne floods one server; s is its dadns (nil for NSD).
func (b *bench) floodOne(ctx context.Context, label, addr string, p *proc, s *dadnsServer, file string, names []string) {
	if ctx.Err() != nil || p.alive() != nil {
		return
	}
	slog.Info("flood", "server", label, "seconds", b.opt.floodDuration.Seconds())
	mem := func() int64 {
		if s != nil {
			v, _ := procStatus(p.cmd.Process.Pid, "VmRSS")
			return v
		}
		_, pss, _, _ := groupMemory(p.cmd.Process.Pid)
		return pss
	}
	idleMem := mem()
	var idleG int
	if s != nil {
		idleG, _ = goroutines(ctx, s)
	}
	before, _ := rrlCounters(ctx, s)
	host, port, _ := net.SplitHostPort(addr)
	secs := max(1, int(b.opt.floodDuration.Seconds()))
	args := []string{"-s", host, "-p", port, "-d", file, "-l", strconv.Itoa(secs),
		"-c", strconv.Itoa(b.opt.floodClients), "-q", strconv.Itoa(b.opt.floodOutstanding), "-T", strconv.Itoa(b.opt.perfThreads), "-t", "2"}
	fctx, stop := context.WithCancel(ctx)
	var wg, sw sync.WaitGroup
	var steady steadyResult
	sw.Go(func() { steady = steadyClient(fctx, addr, names, b.opt.floodDuration) })
	peakMem, peakG := idleMem, idleG
	wg.Go(func() {
		for pause(fctx, 250*time.Millisecond) == nil {
			peakMem = max(peakMem, mem())
			if s != nil {
				if g, err := goroutines(fctx, s); err == nil {
					peakG = max(peakG, g)
				}
			}
		}
	})
	res, err := b.runDnsperfArgs(ctx, b.opt.floodDuration, args)
	sw.Wait() // the second client runs on its own clock
	stop()
	wg.Wait()
	if err != nil {
		b.rep.fail("flood", label, err)
		return
	}
	memKind := "RSS"
	if s == nil {
		memKind = "PSS"
	}
	share := 0.0
	if res.sent > 0 {
		share = 100 * float64(res.completed) / float64(res.sent)
	}
	b.rep.add("flood", fmt.Sprintf("%s: dnsperf -c %d -q %d for %d s from 127.0.0.1 (4 names of one zone): queries answered (TC slips included), of sent", label, b.opt.floodClients, b.opt.floodOutstanding, secs),
		"%.1f %% (%d of %d; %s replies/s)", share, res.completed, res.sent, thousands(res.qps))
	sg := "≥ 99 %"
	b.rep.addGoal("flood", fmt.Sprintf("%s: second client 127.0.1.2, 100 queries/s over 20 names meanwhile: full answers (not truncated)", label),
		goal{sg, steady.asked > 0 && float64(steady.answered) >= 0.99*float64(steady.asked)},
		"%.1f %% (%d of %d; %d truncated)", steady.share(), steady.answered, steady.asked, steady.truncated)
	if s != nil {
		after, _ := rrlCounters(ctx, s)
		b.rep.addGoal("flood", label+": RSS idle → peak during the flood; goroutines idle → peak", goal{"RSS ≤ 2× idle", peakMem <= 2*idleMem},
			"%s → %s; %d → %d; RRL limited / slipped / dropped %d / %d / %d", mib(idleMem), mib(peakMem), idleG, peakG,
			after.limited-before.limited, after.slipped-before.slipped, after.dropped-before.dropped)
	} else {
		b.rep.add("flood", label+": "+memKind+" idle → peak during the flood", "%s → %s", mib(idleMem), mib(peakMem))
	}
}

// steadyResult is what the second client saw.
type steadyResult struct {
	asked, answered, truncated int
}

func (r steadyResult) share() float64 {
	if r.asked == 0 {
		return 0
	}
	return 100 * float64(r.answered) / float64(r.asked)
}

// steadyClient asks addr from 127.0.1.2 at 100 queries a second for d,
// over names in turn, and counts full (not truncated) answers, waiting 2 s
// for late ones.
func steadyClient(ctx context.Context, addr string, names []string, d time.Duration) steadyResult {
	var res steadyResult
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return res
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 1, 2)})
	if err != nil {
		return res
	}
	defer conn.Close()
	var answered, truncated int
	got := make(chan struct{})
	go func() {
		defer close(got)
		seen := map[uint16]bool{}
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r := new(dns.Msg)
			if r.Unpack(buf[:n]) != nil || seen[r.Id] {
				continue
			}
			seen[r.Id] = true
			if r.Truncated {
				truncated++
			} else if r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
				answered++
			}
		}
	}()
	asked := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		<-tick.C
		m := new(dns.Msg)
		m.SetQuestion(names[asked%len(names)], dns.TypeA)
		m.RecursionDesired = false
		m.Id = uint16(asked)
		pkt, _ := m.Pack()
		if _, err := conn.WriteToUDP(pkt, to); err == nil {
			asked++
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	<-got
	res.asked, res.answered, res.truncated = asked, answered, truncated
	return res
}
