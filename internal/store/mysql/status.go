package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// Summary returns the progress counts of backend.
func (s *Store) Summary(ctx context.Context, backend string) (store.Summary, error) {
	sum := store.Summary{Backend: backend}
	err := s.read(ctx, func(tx *sql.Tx) error {
		sum = store.Summary{Backend: backend}
		known, err := isRegistered(ctx, tx, backend)
		if err != nil || !known {
			return errors.Join(err, unregisteredSummary(ctx, tx, &sum))
		}
		return summarize(ctx, tx, &sum)
	})
	if err != nil {
		return store.Summary{}, fmt.Errorf("store: summary %s: %w", backend, err)
	}
	return sum, nil
}

func isRegistered(ctx context.Context, tx *sql.Tx, backend string) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM backends WHERE name = ?", backend).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func unregisteredSummary(ctx context.Context, tx *sql.Tx, sum *store.Summary) error {
	var oldest sql.NullInt64
	err := tx.QueryRowContext(ctx, "SELECT count(*), min(updated) FROM zones").Scan(&sum.Behind, &oldest)
	sum.OldestPending = store.FromUnixNano(oldest.Int64)
	return err
}

func summarize(ctx context.Context, tx *sql.Tx, sum *store.Summary) error {
	rows, err := tx.QueryContext(ctx,
		"SELECT state, count(*) FROM backend_state WHERE backend = ? GROUP BY state", sum.Backend)
	if err != nil {
		return err
	}
	for rows.Next() {
		var st store.State
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return err
		}
		switch st {
		case store.StateApplied:
			sum.Applied = n
		case store.StatePending:
			sum.Behind = n
		case store.StateFailed:
			sum.Failing = n
		case store.StatePermanent:
			sum.Permanent = n
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	var tombs int
	var oldest, last sql.NullInt64
	err = tx.QueryRowContext(ctx, `
		SELECT count(*) FROM zones z JOIN backend_state bs ON bs.backend = ? AND bs.zone = z.name
		WHERE z.deleted = 1 AND bs.state = 'applied'`, sum.Backend).Scan(&tombs)
	if err != nil {
		return err
	}
	sum.Applied -= tombs
	err = tx.QueryRowContext(ctx, `
		SELECT min(z.updated) FROM backend_state bs JOIN zones z ON z.name = bs.zone
		WHERE bs.backend = ? AND bs.state IN ('pending', 'failed')`, sum.Backend).Scan(&oldest)
	if err != nil {
		return err
	}
	sum.OldestPending = store.FromUnixNano(oldest.Int64)
	err = tx.QueryRowContext(ctx,
		"SELECT max(applied_at) FROM backend_state WHERE backend = ?", sum.Backend).Scan(&last)
	if err != nil {
		return err
	}
	sum.LastApplied = store.FromUnixNano(last.Int64)
	err = tx.QueryRowContext(ctx, `
		SELECT zone, last_error FROM backend_state
		WHERE backend = ? AND state IN ('failed', 'permanent')
		ORDER BY failed_at DESC LIMIT 1`, sum.Backend).Scan(&sum.LastErrorZone, &sum.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
