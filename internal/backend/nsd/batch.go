package nsd

// batchSize is how many zones the dispatcher hands this backend at once
// while it holds fewer than batchShare × batchSize zones: one
// nsd-checkzone per zone is paid anyway, but the activation (an addzones
// run or a reconfig, and one reload for many changed zones) is paid per
// batch.
const batchSize = 2500

// batchShare: past batchShare × batchSize zones held, a batch may hold up
// to 1/batchShare of them. Every activation ends in an NSD reload whose
// cost grows with the zones NSD holds (README, Throughput), so with a
// fixed size a bulk load paid more per zone the more NSD held.
const batchShare = 8

// BatchSize implements backend.Batcher; the dispatcher asks before every
// batch.
func (b *Backend) BatchSize() int {
	b.mu.RLock()
	held := len(b.zones)
	b.mu.RUnlock()
	return max(batchSize, held/batchShare)
}
