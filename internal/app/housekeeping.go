package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// tombstoneRetention is how long a delete is remembered after every
// backend applied it.
const tombstoneRetention = 7 * 24 * time.Hour

// housekeep purges old tombstones hourly until ctx ends.
func housekeep(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := st.Purge(ctx, time.Now().Add(-tombstoneRetention)); err != nil {
			if ctx.Err() == nil {
				log.Warn("purging tombstones failed", "err", err)
			}
		} else if n > 0 {
			log.Info("purged tombstones", "zones", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
