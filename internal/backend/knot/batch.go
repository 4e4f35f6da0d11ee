package knot

// batchSize is how many zones the dispatcher hands this backend at once.
// A batch costs a few knotc runs whatever its size (conf-read, one
// configuration transaction for new zones, one blocking zone-reload for
// changed ones), so bulk loads want large batches.
const batchSize = 2500

// BatchSize implements backend.Batcher.
func (b *Backend) BatchSize() int { return batchSize }
