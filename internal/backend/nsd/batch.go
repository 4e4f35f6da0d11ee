package nsd

// batchSize is how many zones the dispatcher hands this backend at once:
// one nsd-checkzone per zone is paid anyway, but the activation (an
// addzones run or a reconfig, and one reload for many changed zones) is
// paid per batch.
const batchSize = 2500

// BatchSize implements backend.Batcher.
func (b *Backend) BatchSize() int { return batchSize }
