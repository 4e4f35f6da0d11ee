package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// daemonPhase starts NSD and BIND on the same zone files and reports
// their cold-load times.
func (b *bench) daemonPhase(ctx context.Context) []*target {
	var out []*target
	b.coldLoad = map[string]time.Duration{}
	for _, name := range []string{"NSD", "Knot", "BIND"} {
		if name == "Knot" {
			out = append(out, b.knotColdPhase(ctx))
			continue
		}
		t := &target{name: name}
		out = append(out, t)
		if t.err = ctx.Err(); t.err != nil {
			continue
		}
		dir := filepath.Join(b.tmp, strings.ToLower(name))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.err = err
			b.rep.fail("cold load", name, err)
			continue
		}
		slog.Info("starting "+name, "zones", len(b.zones))
		p, load, d, port, err := b.startOnFreePort(ctx, dir, func(port int) daemon {
			if name == "BIND" {
				return b.bindDaemon(dir, b.zoneDir, port)
			}
			return b.nsdDaemon(dir, b.zoneDir, port)
		})
		measure := fmt.Sprintf("%s: start → all %d zones answer SOA", name, len(b.zones))
		if err != nil {
			if p != nil {
				p.stop()
			}
			t.err = err
			b.rep.fail("cold load", measure, err)
			continue
		}
		t.port, t.addr, t.proc = port, d.addr, p
		b.coldLoad[name] = load
		b.rep.add("cold load", measure, "%s", secs(load))
	}
	return append(out, b.pdnsTargets(ctx)...)
}

// answerPhase checks that the servers answer a sample of the queries
// alike before their speed is compared; the reference is the first daemon
// that runs. The RRL variant is left out: it is the deployed server with
// loopback not exempt, and a sample asked in a burst may be limited.
func (b *bench) answerPhase(ctx context.Context, serving *servingSet, daemons []*target) {
	var ref *target
	var others []*target
	var builtins []*target
	for key, t := range serving.byKey {
		if key != "rrl" {
			builtins = append(builtins, t)
		}
	}
	slices.SortFunc(builtins, func(a, c *target) int { return strings.Compare(a.name, c.name) })
	for _, t := range slices.Concat(daemons, builtins) {
		switch {
		case t.err != nil:
		case ref == nil:
			ref = t
		default:
			others = append(others, t)
		}
	}
	if ref == nil || len(others) == 0 {
		return
	}
	ds, err := compareAnswers(ctx, ref, others, b.queries)
	if err != nil {
		b.rep.fail("answers", "sampled replies compared", err)
		return
	}
	for _, d := range ds {
		b.rep.add("answers", fmt.Sprintf("%s replies differing from %s (rcode, AA, answer)", d.server, ref.name), "%d of %d", d.differ, d.asked)
		if d.differ > 0 {
			b.rep.problem(fmt.Sprintf("answers: %s differs from %s in %d of %d sampled replies, e.g. %s",
				d.server, ref.name, d.differ, d.asked, strings.Join(d.examples, " / ")))
		}
	}
}

// reportBindVsCold compares the bind backend's end-to-end time with
// named's own cold load of the same zone files.
func (b *bench) reportBindVsCold() {
	e2e, ok := b.e2e["bind"]
	cold, ok2 := b.coldLoad["BIND"]
	if !ok || !ok2 || cold <= 0 {
		return
	}
	ratio := e2e.Seconds() / cold.Seconds()
	b.rep.addGoal("end-to-end", "bind: end-to-end / named's own cold load of the same zones", goal{"≤ 3×", ratio <= 3},
		"%s / %s = %.1f×", secs(e2e), secs(cold), ratio)
}
