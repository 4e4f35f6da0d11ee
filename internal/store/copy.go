package store

import (
	"context"
	"errors"
	"fmt"
)

// Copier is implemented by stores that can be copied row for row (`dadns
// store copy`): versions, times and tombstones are kept, so a zone's next
// version continues its sequence in the new store.
type Copier interface {
	// Export calls fn for every zone row, live or tombstoned, by name.
	Export(ctx context.Context, fn func(Zone) error) error
	// Import writes zones as they are into a store holding no zone yet.
	// Backend state is not copied: every backend applies every zone once
	// from the new store (which re-applying makes a no-op).
	Import(ctx context.Context, zones []Zone) error
}

// ErrNotEmpty is returned by Import when the target already holds zones.
var ErrNotEmpty = errors.New("store: the target store already holds zones")

// importBatch bounds the zones Copy writes in one Import.
const importBatch = 500

// Copy copies every zone row of from into to, which must be empty, and
// returns how many rows (live, tombstones) it copied.
func Copy(ctx context.Context, from, to Copier) (live, tombstones int, err error) {
	var batch []Zone
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := to.Import(ctx, batch)
		batch = batch[:0]
		return err
	}
	err = from.Export(ctx, func(z Zone) error {
		if z.Deleted {
			tombstones++
		} else {
			live++
		}
		if !z.Deleted && HashText(z.Canonical) != z.Hash {
			return fmt.Errorf("zone %s: stored hash does not match its text", z.Name)
		}
		batch = append(batch, z)
		if len(batch) >= importBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: copy: %w", err)
	}
	return live, tombstones, nil
}
