package bind

import (
	"fmt"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// TestBatchSizeGrowsWithZonesHeld checks that batches stay at batchSize
// until named holds batchShare times that many zones, then grow to
// 1/batchShare of the zones held, so that a bulk load's reconfigs cost
// the same per zone added at any size.
func TestBatchSizeGrowsWithZonesHeld(t *testing.T) {
	b := &Backend{zones: map[zone.Name]entry{}}
	for _, c := range []struct{ held, want int }{
		{0, batchSize},
		{1000, batchSize},
		{batchShare * batchSize, batchSize},
		{40000, 40000 / batchShare},
		{100000, 100000 / batchShare},
	} {
		for i := len(b.zones); i < c.held; i++ {
			b.zones[zone.Name(fmt.Sprintf("z%06d.example.", i))] = entry{}
		}
		if got := b.BatchSize(); got != c.want {
			t.Errorf("holding %d zones: BatchSize %d, want %d", c.held, got, c.want)
		}
	}
}
