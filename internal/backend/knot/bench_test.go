package knot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// cpuTime is the CPU time this process and its waited-for children
// (knotc runs) have used; knotd's own work is not in it.
func cpuTime(b *testing.B) time.Duration {
	self, kids, err := procstat.Own()
	if err != nil {
		b.Fatal(err)
	}
	return self + kids
}

// benchKnotc returns the backend's control runner for a knotd serving
// one zone, native or through the knotc binary.
func benchKnotc(b *testing.B, native bool) *knotc {
	knottest.Require(b)
	dir := b.TempDir()
	k := knottest.Start(b, knottest.Options{ZonesDir: dir})
	z := backendtest.Zone(b, "bench.example", 1)
	if err := os.WriteFile(filepath.Join(dir, "bench.example.zone"), []byte(z.Text()), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := k.Knotc("conf-begin"); err != nil {
		b.Fatal(err)
	}
	if err := k.Knotc("conf-set", "zone.domain", "bench.example"); err != nil {
		b.Fatal(err)
	}
	if err := k.Knotc("conf-commit"); err != nil {
		b.Fatal(err)
	}
	if err := k.WaitServes("bench.example", 20*time.Second); err != nil {
		b.Fatal(err)
	}
	kc := &knotc{path: knottest.KnotcPath, socket: k.Socket, timeout: 30 * time.Second,
		marker: filepath.Join(dir, markerName), native: nil}
	if native {
		kc.native = newClient(k.Socket)
	}
	return kc
}

// measure runs op b.N times and reports CPU time per op beside the wall
// time the benchmark reports.
func measure(b *testing.B, op func(i int) error) {
	b.ResetTimer()
	start := cpuTime(b)
	for i := 0; i < b.N; i++ {
		if err := op(i); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e3, "cpu-µs/op")
}

// BenchmarkZoneReload: one blocking zone-reload of one zone (its file
// unchanged, so the figure is the control round trip).
func BenchmarkZoneReload(b *testing.B) {
	for _, native := range []bool{true, false} {
		b.Run(map[bool]string{true: "native", false: "knotc"}[native], func(b *testing.B) {
			kc := benchKnotc(b, native)
			ctx := context.Background()
			measure(b, func(int) error {
				_, err := kc.run(ctx, "-b", "zone-reload", "bench.example")
				return err
			})
		})
	}
}

// BenchmarkConfTransaction: one configuration transaction adding (even
// iterations) or removing (odd) one zone, as addZones and Delete run it:
// conf-begin, conf-set/unset zone.domain, conf-commit, marker file.
func BenchmarkConfTransaction(b *testing.B) {
	for _, native := range []bool{true, false} {
		b.Run(map[bool]string{true: "native", false: "knotc"}[native], func(b *testing.B) {
			kc := benchKnotc(b, native)
			ctx := context.Background()
			measure(b, func(i int) error {
				action := map[bool]string{true: "conf-set", false: "conf-unset"}[i%2 == 0]
				return kc.transaction(ctx, [][]string{{action, "zone.domain", fmt.Sprintf("t%d.example", i/2)}}, nil)
			})
		})
	}
}
