package backendtest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/procstat"
	"github.com/dadns/dadns/internal/zone"
)

// AuditApplyVerifier is a backend the dispatcher audits, applies and
// verifies.
type AuditApplyVerifier interface {
	AuditZone(z *zone.Zone) error
	Apply(ctx context.Context, zones []*zone.Zone) error
	Verify(ctx context.Context, name zone.Name, hash string) error
}

// BenchApplyVerify measures a backend alone: 2,000 new zones in batches
// of 500, each batch audited, applied, then verified zone by zone, as the
// dispatcher does, on a fresh backend from newBackend each round. It
// reports this process's CPU per zone (user + system), split by phase,
// and allocations per zone, and apart the CPU of this process's children
// named server (the test's database server, its background work
// included): the machine is shared, so wall time says little.
func BenchApplyVerify(b *testing.B, server string, newBackend func(b *testing.B) AuditApplyVerifier) {
	const total, batch = 2000, 500
	zones := make([]*zone.Zone, total)
	for i := range zones {
		zones[i] = Zone(b, fmt.Sprintf("bench%05d.example", i), 1)
	}
	var audit, apply, verify cpuMeter
	var db time.Duration
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		be := newBackend(b)
		b.StartTimer()
		db0 := childCPU(server)
		for i := 0; i < total; i += batch {
			part := zones[i:min(i+batch, total)]
			audit.start()
			for _, z := range part {
				if err := be.AuditZone(z); err != nil {
					b.Fatal(err)
				}
			}
			audit.stop()
			apply.start()
			if err := be.Apply(ctx, part); err != nil {
				b.Fatal(err)
			}
			apply.stop()
			verify.start()
			for _, z := range part {
				if err := be.Verify(ctx, z.Name, z.Hash()); err != nil {
					b.Fatal(err)
				}
			}
			verify.stop()
		}
		db += childCPU(server) - db0
	}
	n := float64(total * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "zones/s")
	b.ReportMetric(float64(audit.cpu+apply.cpu+verify.cpu)/float64(time.Microsecond)/n, "cpu-µs/zone")
	b.ReportMetric(float64(audit.cpu)/float64(time.Microsecond)/n, "audit-cpu-µs/zone")
	b.ReportMetric(float64(apply.cpu)/float64(time.Microsecond)/n, "apply-cpu-µs/zone")
	b.ReportMetric(float64(verify.cpu)/float64(time.Microsecond)/n, "verify-cpu-µs/zone")
	b.ReportMetric(float64(db)/float64(time.Microsecond)/n, server+"-cpu-µs/zone")
	b.ReportMetric(float64(audit.allocs+apply.allocs+verify.allocs)/n, "allocs/zone")
}

// cpuMeter sums this process's CPU time and heap allocations over the
// spans between start and stop.
type cpuMeter struct {
	cpu    time.Duration
	allocs uint64
	t0     time.Duration
	a0     uint64
}

func (m *cpuMeter) start() { m.t0, m.a0 = procstat.SelfCPU(), mallocs() }

func (m *cpuMeter) stop() {
	m.cpu += procstat.SelfCPU() - m.t0
	m.allocs += mallocs() - m.a0
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// childCPU is the CPU time used so far by this process's children named
// comm (0 when there is none).
func childCPU(comm string) time.Duration {
	var total time.Duration
	for _, st := range procstat.All() {
		if st.Comm == comm && st.PPID == os.Getpid() {
			total += st.Self
		}
	}
	return total
}
