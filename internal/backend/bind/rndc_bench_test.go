package bind

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// BenchmarkRndcReloadZone measures one "rndc reload ZONE" against a named
// holding 50 zones, over the control channel directly and by running
// the rndc binary: wall time per command (ns/op) and CPU per command of
// this process (dadns's side), of the rndc processes it ran, and of
// named. The zones are unchanged, so named's part is the command, not a
// zone load.
//
//	go test -run '^$' -bench RndcReloadZone -benchtime 300x ./internal/backend/bind/
func BenchmarkRndcReloadZone(b *testing.B) {
	for _, way := range []string{"native", "exec"} {
		b.Run(way, func(b *testing.B) {
			namedtest.Require(b)
			r := newRig(b, false)
			opt := r.options(false)
			opt.Rndc.Path, opt.Rndc.Exec, opt.Rndc.trace = namedtest.RndcPath, way == "exec", nil
			opt.Logger = slog.New(slog.DiscardHandler)
			be, err := New(opt)
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			zs := zones(b, way+"-", 50, 1)
			if err := be.Apply(ctx, zs); err != nil {
				b.Fatal(err)
			}
			pid := namedPID(b, r.named)
			before, named0 := usage(b), cpuOf(b, pid)
			b.ResetTimer()
			for i := range b.N {
				if err := be.rndc.run(ctx, "reload", string(zs[i%len(zs)].Name)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			after, named1 := usage(b), cpuOf(b, pid)
			n := float64(b.N)
			b.ReportMetric(float64(after.self-before.self)/n, "self-cpu-ns/op")
			b.ReportMetric(float64(after.children-before.children)/n, "rndc-cpu-ns/op")
			b.ReportMetric(float64(named1-named0)/n, "named-cpu-ns/op")
		})
	}
}

type rusage struct{ self, children time.Duration }

func usage(b *testing.B) rusage {
	self, children, err := procstat.Own()
	if err != nil {
		b.Fatal(err)
	}
	return rusage{self, children}
}

func namedPID(b *testing.B, n *namedtest.Named) int {
	data, err := os.ReadFile(n.Dir + "/named.pid")
	if err != nil {
		b.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		b.Fatal(err)
	}
	return pid
}

func cpuOf(b *testing.B, pid int) time.Duration {
	st, err := procstat.Read(pid)
	if err != nil {
		b.Fatal(err)
	}
	return st.Self
}
