package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// Purge removes tombstones last changed before `before` that every
// registered backend instance has applied; each purged name keeps its last
// version in the retired table.
func (s *Store) Purge(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = purgeTx(ctx, tx, before)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return n, nil
}

func purgeTx(ctx context.Context, tx *sql.Tx, before time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT name, version FROM zones
		WHERE deleted = 1 AND updated < ?
		  AND NOT EXISTS (SELECT 1 FROM backend_state bs
		                  WHERE bs.zone = zones.name AND bs.state != 'applied')
		FOR UPDATE`, store.UnixNano(before))
	if err != nil {
		return 0, err
	}
	gone := map[string]int64{}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			rows.Close()
			return 0, err
		}
		gone[name] = v
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	for name, v := range gone {
		for _, q := range []string{
			"DELETE FROM backend_state WHERE zone = ?",
			"DELETE FROM zone_history WHERE zone = ?",
			"DELETE FROM zones WHERE name = ? AND deleted = 1",
		} {
			if _, err := tx.ExecContext(ctx, q, name); err != nil {
				return 0, err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO retired (name, version) VALUES (?, ?)
			ON DUPLICATE KEY UPDATE version = VALUES(version)`, name, v); err != nil {
			return 0, err
		}
	}
	return len(gone), nil
}
