package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// BackendStates returns the per-backend rows of one zone (for `zones
// show`), sorted by backend. Backends not yet registered have no row.
func (s *Store) BackendStates(ctx context.Context, zone string) ([]store.BackendState, error) {
	n, err := store.NormName(zone)
	if err != nil {
		return nil, fmt.Errorf("store: backend states %q: %w", zone, err)
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT backend, zone, state, desired_version, applied_version, applied_hash, applied_at,
		       attempts, last_error, failed_at, next_attempt
		FROM backend_state WHERE zone = ? ORDER BY backend`, n)
	if err != nil {
		return nil, fmt.Errorf("store: backend states %s: %w", n, err)
	}
	defer rows.Close()
	var out []store.BackendState
	for rows.Next() {
		st, err := scanBackendState(rows)
		if err != nil {
			return nil, fmt.Errorf("store: backend states %s: %w", n, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func scanBackendState(sc scanner) (store.BackendState, error) {
	var b store.BackendState
	var appliedAt, failedAt, next int64
	err := sc.Scan(&b.Backend, &b.Zone, &b.State, &b.DesiredVersion, &b.AppliedVersion, &b.AppliedHash,
		&appliedAt, &b.Attempts, &b.LastError, &failedAt, &next)
	b.AppliedAt, b.FailedAt, b.NextAttempt = store.FromUnixNano(appliedAt), store.FromUnixNano(failedAt), store.FromUnixNano(next)
	return b, err
}

// store.Summary returns the counts of backend. For an instance not registered yet
// every zone and tombstone counts as behind.
func (s *Store) Summary(ctx context.Context, backend string) (store.Summary, error) {
	sum := store.Summary{Backend: backend}
	err := s.read(ctx, func(tx *sql.Tx) error {
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

// summarize fills sum for a registered backend.
func summarize(ctx context.Context, tx *sql.Tx, sum *store.Summary) error {
	steps := []func(context.Context, *sql.Tx, *store.Summary) error{
		countStates, oldestPending, lastApplied, lastError,
	}
	for _, step := range steps {
		if err := step(ctx, tx, sum); err != nil {
			return err
		}
	}
	return nil
}

// countStates counts the backend's rows by state, the pending, failed and
// permanent ones from their partial indexes. No index holds a backend's
// applied rows (every push and applied mark would write it): every zone
// row has one backend_state row per registered backend (register, markDue,
// Import; Purge and Forget remove them by cascade; migration 006 completed
// older databases), so the live zones served are the live zones less those
// behind, failing or failed for good.
func countStates(ctx context.Context, tx *sql.Tx, sum *store.Summary) error {
	err := tx.QueryRowContext(ctx, countAppliedQuery, sum.Backend).Scan(&sum.Applied)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, countBehindQuery, sum.Backend)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var st store.State
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return err
		}
		switch st {
		case store.StatePending:
			sum.Behind = n
		case store.StateFailed:
			sum.Failing = n
		case store.StatePermanent:
			sum.Permanent = n
		}
	}
	return rows.Err()
}

func oldestPending(ctx context.Context, tx *sql.Tx, sum *store.Summary) error {
	var t sql.NullInt64
	err := tx.QueryRowContext(ctx, oldestPendingQuery,
		sum.Backend).Scan(&t)
	sum.OldestPending = store.FromUnixNano(t.Int64)
	return err
}

func lastApplied(ctx context.Context, tx *sql.Tx, sum *store.Summary) error {
	var t sql.NullInt64
	err := tx.QueryRowContext(ctx,
		"SELECT last_applied FROM backends WHERE name = ?", sum.Backend).Scan(&t)
	sum.LastApplied = store.FromUnixNano(t.Int64)
	return err
}

func lastError(ctx context.Context, tx *sql.Tx, sum *store.Summary) error {
	err := tx.QueryRowContext(ctx, `
		SELECT zone, last_error FROM backend_state
		WHERE backend = ? AND state IN ('failed', 'permanent')
		ORDER BY failed_at DESC LIMIT 1`, sum.Backend).Scan(&sum.LastErrorZone, &sum.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// countAppliedQuery counts the live zones a backend serves at their
// desired version (see countStates).
const countAppliedQuery = `
	SELECT (SELECT count(*) FROM zones WHERE deleted = 0) - (SELECT count(*) FROM (
		SELECT bs.zone FROM backend_state bs INDEXED BY backend_state_pending
		JOIN zones z ON z.name = bs.zone
		WHERE bs.backend = ?1 AND bs.state = 'pending' AND z.deleted = 0
		UNION ALL
		SELECT bs.zone FROM backend_state bs INDEXED BY backend_state_next
		JOIN zones z ON z.name = bs.zone
		WHERE bs.backend = ?1 AND bs.state IN ('failed', 'permanent') AND z.deleted = 0))`

// countBehindQuery counts a backend's pending, failed and permanent rows.
const countBehindQuery = `
		SELECT 'pending', count(*) FROM backend_state INDEXED BY backend_state_pending
		WHERE backend = ?1 AND state = 'pending'
		UNION ALL
		SELECT state, count(*) FROM backend_state INDEXED BY backend_state_next
		WHERE backend = ?1 AND state IN ('failed', 'permanent') GROUP BY state`

// oldestPendingQuery is the push time of a backend's oldest zone still behind.
var oldestPendingQuery = `
		SELECT min(updated) FROM (` + behindColumn("updated") + `)`
