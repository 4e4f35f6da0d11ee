package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// BenchmarkPut measures one push: a ~2 KB zone, two registered backends,
// synchronous=FULL.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	if err := s.Forget(ctx, []string{"bind", "coredns"}); err != nil {
		b.Fatal(err)
	}
	zones := make([]store.Zone, 1000)
	for i := range zones {
		name := fmt.Sprintf("z%d.example", i)
		zones[i] = store.Zone{Name: name, Canonical: zoneText(name, 1, 40), OwnerHost: "da1"}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Put(ctx, zones[i%len(zones)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDue measures one Due call of 500 on a backend that is up to date
// but for a few zones (steady), and on one with every zone behind (backlog).
func BenchmarkDue(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, backlog := range []bool{false, true} {
			name := fmt.Sprintf("zones=%d/steady", n)
			if backlog {
				name = fmt.Sprintf("zones=%d/backlog", n)
			}
			b.Run(name, func(b *testing.B) { benchDue(b, n, backlog) })
		}
	}
}

func benchDue(b *testing.B, n int, backlog bool) {
	if n > 10_000 && testing.Short() {
		b.Skip("large setup")
	}
	ctx := context.Background()
	s, clock := openTest(b)
	if err := s.Forget(ctx, []string{"bind", "nsd"}); err != nil {
		b.Fatal(err)
	}
	bulkPut(b, s, n, clock.Now())
	if !backlog {
		if _, err := s.db.Exec("UPDATE backend_state SET state = 'applied', applied_version = desired_version"); err != nil {
			b.Fatal(err)
		}
		for i := range 20 {
			mustPut(b, s, fmt.Sprintf("z%d.example", i*97), 2)
		}
	}
	b.ResetTimer()
	cpu0 := procstat.SelfCPU()
	for b.Loop() {
		w, _, err := s.Due(ctx, "bind", 500)
		if err != nil || len(w) == 0 {
			b.Fatalf("Due = %d, %v", len(w), err)
		}
	}
	b.ReportMetric(float64((procstat.SelfCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// bulkPut stores n small zones in one transaction.
func bulkPut(b testing.TB, s *Store, n int, now time.Time) {
	b.Helper()
	err := s.write(context.Background(), func(tx *sql.Tx) error {
		for i := range n {
			name := fmt.Sprintf("z%d.example", i)
			z := store.Zone{Name: name, Canonical: zoneText(name, 1, 3), OwnerHost: "da1"}
			z.Hash = store.HashText(z.Canonical)
			if _, err := s.putTx(context.Background(), tx, z, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPutConcurrent measures pushes from 16 concurrent pushers (group
// commit), reporting statements and syncs of the log per push.
func BenchmarkPutConcurrent(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	if err := s.Forget(ctx, []string{"builtin", "bind"}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	stmts0, synced0, cpu0, written0 := s.statements.Load(), s.wal.syncs.Load(), procstat.SelfCPU(), bytesWritten()
	pushers(b, &n, func(name string) error {
		_, err := s.Put(ctx, store.Zone{Name: name, Canonical: zoneText(name, 1, 16), OwnerHost: "da1"})
		return err
	})
	pushes := float64(n.Load())
	b.ReportMetric(float64(bytesWritten()-written0)/1024/pushes, "written-KiB/push")
	b.ReportMetric(float64(s.statements.Load()-stmts0)/pushes, "stmts/push")
	b.ReportMetric(float64(s.wal.syncs.Load()-synced0)/pushes, "fsyncs/push")
	b.ReportMetric(float64((procstat.SelfCPU()-cpu0).Microseconds())/pushes, "cpu-µs/push")
}

// BenchmarkApplied measures recording a batch of 500 applied zones.
func BenchmarkApplied(b *testing.B) {
	ctx := context.Background()
	s, clock := openTest(b)
	if err := s.Forget(ctx, []string{"builtin"}); err != nil {
		b.Fatal(err)
	}
	bulkPut(b, s, 5000, clock.Now())
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		// Make 500 zones due again: a new version of each.
		done := make([]store.Applied, 0, 500)
		for j := range 500 {
			name := fmt.Sprintf("z%d.example", (i*500+j)%5000)
			z, err := s.Put(ctx, store.Zone{Name: name, Canonical: zoneText(name, uint32(i+2), 3), OwnerHost: "da1"})
			if err != nil {
				b.Fatal(err)
			}
			done = append(done, store.Applied{Name: z.Name, Version: z.Version, Hash: z.Hash})
		}
		b.StartTimer()
		c0 := procstat.SelfCPU()
		if err := s.Applied(ctx, "builtin", done); err != nil {
			b.Fatal(err)
		}
		cpu += procstat.SelfCPU() - c0
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*500), "cpu-µs/zone")
}

// BenchmarkPushAndDispatch is BenchmarkPutConcurrent with what runs beside
// pushes in dadns: a worker that reads the due zones (texts included),
// records them applied, and looks each push's owner up first (push.Save's
// Live). It reports CPU per push, everything included.
func BenchmarkPushAndDispatch(b *testing.B) {
	benchPushAndDispatch(b, []string{"builtin"})
}

// BenchmarkPushAndDispatch7 is BenchmarkPushAndDispatch with seven backend
// instances, each with its own worker, as in the largest deployments: every
// push makes the zone due for each of them.
func BenchmarkPushAndDispatch7(b *testing.B) {
	benchPushAndDispatch(b, []string{"builtin", "bind", "nsd", "knot", "powerdns", "coredns", "bind2"})
}

func benchPushAndDispatch(b *testing.B, backends []string) {
	ctx := context.Background()
	s, _ := openTest(b)
	if err := s.Forget(ctx, backends); err != nil {
		b.Fatal(err)
	}
	var n, dues atomic.Int64
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for _, backend := range backends {
		workers.Go(func() { dispatchWorker(b, s, backend, stop, &dues) })
	}
	stmts0, synced0, cpu0, written0 := s.statements.Load(), s.wal.syncs.Load(), procstat.SelfCPU(), bytesWritten()
	pushers(b, &n, func(name string) error {
		if _, err := s.Live(ctx, []string{name}); err != nil {
			return err
		}
		_, err := s.Put(ctx, store.Zone{Name: name, Canonical: zoneText(name, 1, 16), Original: zoneText(name, 1, 16), OwnerHost: "da1"})
		return err
	})
	close(stop)
	workers.Wait()
	pushes := float64(n.Load())
	b.ReportMetric(float64((procstat.SelfCPU()-cpu0).Microseconds())/pushes, "cpu-µs/push")
	b.ReportMetric(float64(bytesWritten()-written0)/1024/pushes, "written-KiB/push")
	b.ReportMetric(float64(s.statements.Load()-stmts0)/pushes, "stmts/push")
	b.ReportMetric(float64(s.wal.syncs.Load()-synced0)/pushes, "fsyncs/push")
	b.ReportMetric(float64(dues.Load())/pushes, "dues/push")
}

// dispatchWorker reads backend's due zones and records them applied until
// stop is closed, counting its Due calls in dues.
func dispatchWorker(b *testing.B, s *Store, backend string, stop chan struct{}, dues *atomic.Int64) {
	ctx := context.Background()
	for {
		select {
		case <-stop:
			return
		default:
		}
		work, _, err := s.Due(ctx, backend, 500)
		dues.Add(1)
		if err != nil {
			b.Error(err)
			return
		}
		if len(work) == 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		done := make([]store.Applied, 0, len(work))
		for _, w := range work {
			done = append(done, store.Applied{Name: w.Zone.Name, Version: w.Zone.Version, Hash: w.Zone.Hash})
		}
		if err := s.Applied(ctx, backend, done); err != nil {
			b.Error(err)
			return
		}
	}
}

// pushers runs push for new zone names from 16 concurrent pushers (2
// CPUs) with the timer on, counting the pushes in n.
func pushers(b *testing.B, n *atomic.Int64, push func(name string) error) {
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := push(fmt.Sprintf("z%d.example", n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
}

// bytesWritten is what this process has written so far (write(2),
// pwrite(2)...: the log frames and checkpoints), from /proc/self/io; 0
// where that is missing.
func bytesWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkSummary measures one backend's status counts (Summary, then
// Pending) with 10,000 zones and seven backend instances, most zones
// applied.
func BenchmarkSummary(b *testing.B) {
	ctx := context.Background()
	s, clock := openTest(b)
	backends := []string{"builtin", "bind", "nsd", "knot", "powerdns", "coredns", "bind2"}
	if err := s.Forget(ctx, backends); err != nil {
		b.Fatal(err)
	}
	bulkPut(b, s, 10_000, clock.Now())
	if _, err := s.db.Exec("UPDATE backend_state SET state = 'applied', applied_version = desired_version, applied_at = 1"); err != nil {
		b.Fatal(err)
	}
	for i := range 20 {
		mustPut(b, s, fmt.Sprintf("z%d.example", i*97), 2)
	}
	b.ResetTimer()
	for b.Loop() {
		sum, err := s.Summary(ctx, "bind")
		if err != nil || sum.Applied != 10_000-20 || sum.Behind != 20 {
			b.Fatalf("Summary = %+v, %v", sum, err)
		}
		if _, _, err := s.Pending(ctx, "bind"); err != nil {
			b.Fatal(err)
		}
	}
}
