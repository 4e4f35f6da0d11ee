package sqlite

import (
	"context"
	"database/sql"

	"github.com/dadns/dadns/internal/store"
)

// EachLive hands the live zones' metadata (List's rows, by name) to fn one
// row at a time, so a caller going over 100,000 zones (reconciliation) never
// holds them all; fn must be quick and must not use the store.
func (s *Store) EachLive(ctx context.Context, fn func(store.Zone) error) error {
	return store.EachZoneRow(ctx, s.db, "SELECT "+metaCols+" FROM zones WHERE deleted = 0 ORDER BY name",
		func(r *sql.Rows) (store.Zone, error) { return scanZone(r, false) }, fn)
}
