package powerdns

import (
	"fmt"
	"testing"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// BenchmarkApplyVerify measures the backend alone: 10,000 new zones in
// batches of 500, each batch audited, applied, then verified zone by zone,
// as the dispatcher does. Reports zones/s.
func BenchmarkApplyVerify(b *testing.B) {
	const total, batch = 10000, 500
	zones := make([]*zone.Zone, total)
	for i := range zones {
		zones[i] = backendtest.Zone(b, fmt.Sprintf("bench%05d.example", i), 1)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		f := newFixture(b)
		b.StartTimer()
		for i := 0; i < total; i += batch {
			part := zones[i:min(i+batch, total)]
			for _, z := range part {
				if err := f.b.AuditZone(z); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.b.Apply(testCtx(b), part); err != nil {
				b.Fatal(err)
			}
			for _, z := range part {
				if err := f.b.Verify(testCtx(b), z.Name, z.Hash()); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "zones/s")
}
