package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

var _ store.Copier = (*Store)(nil)

// Export calls fn for every zone row, live or tombstoned, by name, from
// one snapshot.
func (s *Store) Export(ctx context.Context, fn func(store.Zone) error) error {
	return s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+fullCols+" FROM zones ORDER BY name")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			z, err := scanZone(rows, true)
			if err != nil {
				return err
			}
			if err := fn(z); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// Import writes zones as they are, due for every registered backend; the
// store must hold no zone rows except those of earlier Import calls of the
// same copy.
func (s *Store) Import(ctx context.Context, zones []store.Zone) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, z := range zones {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM zones WHERE name = ?", z.Name).Scan(&one)
			if err == nil {
				return fmt.Errorf("zone %s: %w", z.Name, store.ErrNotEmpty)
			}
			seq, err := s.nextSeq(ctx, tx)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `
				INSERT INTO zones (name, version, seq, deleted, hash, serial, owner_host, owner_user,
				                   created, updated, canonical, original)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				z.Name, z.Version, seq, z.Deleted, z.Hash, z.Serial, z.OwnerHost, z.OwnerUser,
				store.UnixNano(z.Created), store.UnixNano(z.Updated), z.Canonical, z.Original)
			if err != nil {
				return fmt.Errorf("zone %s: %w", z.Name, err)
			}
			// Due for every backend already registered, as a push would
			// be (one registered later gets its rows then).
			if err := markDue(ctx, tx, z.Name, z.Version, seq); err != nil {
				return fmt.Errorf("zone %s: %w", z.Name, err)
			}
		}
		return nil
	})
}
