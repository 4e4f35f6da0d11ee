package bind

// batchSize is how many zones the dispatcher hands this backend at once
// while it holds fewer than batchShare × batchSize zones. Each batch that
// adds or removes zones costs one `rndc reconfig`, whose cost grows with
// every zone named holds, so bulk loads want few, large batches: 2,500
// zones per batch measured about 2.2× the zones/s of 500 on a 10,000-zone
// load (the backend's bulk test, BulkLoad).
const batchSize = 2500

// batchShare: past batchShare × batchSize zones held, a batch may hold up
// to 1/batchShare of them. With a fixed size, a bulk load's reconfigs
// grew with the zones named held while each still covered 2,500 zones:
// in `make bench SCALE=100000` named fell behind the pushes and served
// the last zone 69 s after the last acknowledgement. A batch growing with
// the zones held keeps the reconfig cost per zone added flat (the same
// share as fullReloadShare's for reloads).
const batchShare = fullReloadShare

// BatchSize implements backend.Batcher; the dispatcher asks before every
// batch.
func (b *Backend) BatchSize() int {
	b.mu.RLock()
	held := len(b.zones)
	b.mu.RUnlock()
	return max(batchSize, held/batchShare)
}
