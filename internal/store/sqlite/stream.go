package sqlite

import (
	"context"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// EachLive hands the live zones' metadata (List's rows, by name) to fn one
// row at a time, so a caller going over 100,000 zones (reconciliation) never
// holds them all. fn runs while the query's rows are open: it must be quick
// and must not use the store. An error from fn stops the walk and is
// returned as is.
func (s *Store) EachLive(ctx context.Context, fn func(store.Zone) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT "+metaCols+" FROM zones WHERE deleted = 0 ORDER BY name")
	if err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		z, err := scanZone(rows, false)
		if err != nil {
			return fmt.Errorf("store: list: %w", err)
		}
		if err := fn(z); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	return nil
}
