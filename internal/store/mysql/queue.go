package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// Pending counts the work a backend has not done yet (pending or failed),
// split into zones to apply and zones to delete.
func (s *Store) Pending(ctx context.Context, backend string) (applies, deletes int, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		known, err := isRegistered(ctx, tx, backend)
		if err != nil {
			return err
		}
		if !known {
			return tx.QueryRowContext(ctx, "SELECT count(*) FROM zones WHERE deleted = 0").Scan(&applies)
		}
		return tx.QueryRowContext(ctx, `
			SELECT coalesce(sum(z.deleted = 0), 0), coalesce(sum(z.deleted = 1), 0)
			FROM backend_state bs JOIN zones z ON z.name = bs.zone
			WHERE bs.backend = ? AND bs.state IN ('pending', 'failed')`, backend).Scan(&applies, &deletes)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: pending %s: %w", backend, err)
	}
	return applies, deletes, nil
}

const stateCols = `backend, zone, state, desired_version, applied_version, applied_hash, applied_at,
	attempts, last_error, failed_at, next_attempt`

// Troubled lists every failing (zone, backend) row, by zone then backend.
func (s *Store) Troubled(ctx context.Context) ([]store.BackendState, error) {
	out, err := s.states(ctx, "state IN ('failed', 'permanent') ORDER BY zone, backend")
	if err != nil {
		return nil, fmt.Errorf("store: troubled: %w", err)
	}
	return out, nil
}

// BackendStates returns the per-backend rows of one zone, by backend.
func (s *Store) BackendStates(ctx context.Context, zone string) ([]store.BackendState, error) {
	n, err := store.NormName(zone)
	if err != nil {
		return nil, fmt.Errorf("store: backend states %q: %w", zone, err)
	}
	out, err := s.states(ctx, "zone = ? ORDER BY backend", n)
	if err != nil {
		return nil, fmt.Errorf("store: backend states %s: %w", n, err)
	}
	return out, nil
}

func (s *Store) states(ctx context.Context, where string, args ...any) ([]store.BackendState, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+stateCols+" FROM backend_state WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.BackendState
	for rows.Next() {
		var b store.BackendState
		var appliedAt, failedAt, next int64
		err := rows.Scan(&b.Backend, &b.Zone, &b.State, &b.DesiredVersion, &b.AppliedVersion, &b.AppliedHash,
			&appliedAt, &b.Attempts, &b.LastError, &failedAt, &next)
		if err != nil {
			return nil, err
		}
		b.AppliedAt, b.FailedAt, b.NextAttempt = store.FromUnixNano(appliedAt), store.FromUnixNano(failedAt), store.FromUnixNano(next)
		out = append(out, b)
	}
	return out, rows.Err()
}

// RetryNow makes every zone waiting for a retry on backend due at once.
func (s *Store) RetryNow(ctx context.Context, backend string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.UnixNano(s.now())
		res, err := tx.ExecContext(ctx, `UPDATE backend_state SET next_attempt = ?
			WHERE backend = ? AND state = 'failed' AND next_attempt > ?`, now, backend, now)
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
