package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// Pending counts the work a backend has not done yet (pending or failed,
// not permanent), split into zones to apply and zones to delete. For a
// backend not registered yet every live zone is pending.
func (s *Store) Pending(ctx context.Context, backend string) (applies, deletes int, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		known, err := isRegistered(ctx, tx, backend)
		if err != nil {
			return err
		}
		if !known {
			return tx.QueryRowContext(ctx, "SELECT count(*) FROM zones WHERE deleted = 0").Scan(&applies)
		}
		return tx.QueryRowContext(ctx, pendingQuery,
			backend).Scan(&applies, &deletes)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: pending %s: %w", backend, err)
	}
	return applies, deletes, nil
}

// Troubled lists every (zone, backend) row that failed, permanently or
// awaiting a retry, sorted by zone then backend.
func (s *Store) Troubled(ctx context.Context) ([]store.BackendState, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT backend, zone, state, desired_version, applied_version, applied_hash, applied_at,
		       attempts, last_error, failed_at, next_attempt
		FROM backend_state WHERE state IN ('failed', 'permanent') ORDER BY zone, backend`)
	if err != nil {
		return nil, fmt.Errorf("store: troubled: %w", err)
	}
	defer rows.Close()
	var out []store.BackendState
	for rows.Next() {
		st, err := scanBackendState(rows)
		if err != nil {
			return nil, fmt.Errorf("store: troubled: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// retryNowQuery repeats the condition of the partial index
// backend_state_next (migration 003) so that SQLite uses it.
const retryNowQuery = `UPDATE backend_state SET next_attempt = ?
	WHERE backend = ? AND state IN ('failed', 'permanent') AND state = 'failed' AND next_attempt > ?`

// RetryNow makes every zone waiting for a retry on backend due at once
// (the backend was seen to recover); their attempt counts are kept.
func (s *Store) RetryNow(ctx context.Context, backend string) (int, error) {
	now := store.UnixNano(s.now())
	var n int64
	err := s.writeRelaxed(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, retryNowQuery, now, backend, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry now %s: %w", backend, err)
	}
	return int(n), nil
}

// pendingQuery counts the zones and tombstones a backend has still to do.
var pendingQuery = `
			SELECT coalesce(sum(deleted = 0), 0), coalesce(sum(deleted = 1), 0) FROM (` + behindColumn("deleted") + `)`

// behindColumn selects column of the zones row of every zone a backend
// (?1) has still to do: its pending rows and its failed ones (retries),
// each read through its partial index.
func behindColumn(column string) string {
	return `
				SELECT z.` + column + ` FROM backend_state bs INDEXED BY backend_state_pending
				JOIN zones z ON z.name = bs.zone
				WHERE bs.backend = ?1 AND bs.state = 'pending'
				UNION ALL
				SELECT z.` + column + ` FROM backend_state bs INDEXED BY backend_state_next
				JOIN zones z ON z.name = bs.zone
				WHERE bs.backend = ?1 AND bs.state IN ('failed', 'permanent') AND bs.state = 'failed'`
}
