package mysql

import (
	"context"
	"database/sql"
	"errors"
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

// Import writes zones as they are into a store holding none of them.
func (s *Store) Import(ctx context.Context, zones []store.Zone) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, z := range zones {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM zones WHERE name = ?", z.Name).Scan(&one)
			if err == nil {
				return fmt.Errorf("zone %s: %w", z.Name, store.ErrNotEmpty)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			_, err = tx.ExecContext(ctx, `
				INSERT INTO zones (name, version, seq, deleted, hash, serial, owner_host, owner_user,
				                   created, updated, canonical, original)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				z.Name, z.Version, s.nextSeq(), z.Deleted, z.Hash, z.Serial, z.OwnerHost, z.OwnerUser,
				store.UnixNano(z.Created), store.UnixNano(z.Updated), []byte(z.Canonical), []byte(z.Original))
			if err != nil {
				return fmt.Errorf("zone %s: %w", z.Name, err)
			}
		}
		return nil
	})
}
