package nsd

import (
	"strconv"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// TestBatchSizeFollowsZonesHeld: 2,500 zones a batch up to 20,000 held,
// then an eighth of them (each batch ends in a reload of all NSD holds).
func TestBatchSizeFollowsZonesHeld(t *testing.T) {
	b := &Backend{zones: map[zone.Name]entry{}}
	want := map[int]int{0: 2500, 20000: 2500, 20008: 2501, 100000: 12500}
	for _, held := range []int{0, 20000, 20008, 100000} {
		for len(b.zones) < held {
			b.zones[zone.Name("n"+strconv.Itoa(len(b.zones))+".example.")] = entry{}
		}
		if got := b.BatchSize(); got != want[held] {
			t.Errorf("holding %d zones: BatchSize %d, want %d", held, got, want[held])
		}
	}
}
