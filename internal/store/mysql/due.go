package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// defaultLimit caps Due when the caller gives no limit.
const defaultLimit = 500

// Due returns up to limit zones for backend that are behind and due now,
// oldest push first, and the earliest future retry (zero if none).
func (s *Store) Due(ctx context.Context, backend string, limit int) ([]store.Work, time.Time, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return nil, time.Time{}, fmt.Errorf("store: due %s: %w", backend, err)
	}
	now := store.UnixNano(s.now())
	var work []store.Work
	var next time.Time
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if work, err = dueRows(ctx, tx, backend, now, limit, ""); err != nil {
			return err
		}
		next, err = nextAttempt(ctx, tx, backend, now)
		return err
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: due %s: %w", backend, err)
	}
	return work, next, nil
}

// dueQuery takes at most limit pending rows in push order and at most limit
// due retries in retry-time order, each from an index range, then keeps the
// oldest pushes. claimFilter narrows both to rows a node may claim.
func dueQuery(claimFilter string) string {
	return `
	SELECT ` + zoneCols("z.", true) + `, d.attempts
	FROM (
		(SELECT zone, seq, attempts FROM backend_state
		 WHERE backend = ? AND state = 'pending'` + claimFilter + `
		 ORDER BY seq LIMIT ?)
		UNION ALL
		(SELECT zone, seq, attempts FROM backend_state
		 WHERE backend = ? AND state = 'failed' AND next_attempt <= ?` + claimFilter + `
		 ORDER BY next_attempt LIMIT ?)
	) d JOIN zones z ON z.name = d.zone
	ORDER BY d.seq
	LIMIT ?`
}

// dueRows runs dueQuery; with node set it skips rows another node holds an
// unexpired claim on.
func dueRows(ctx context.Context, tx *sql.Tx, backend string, now int64, limit int, node string) ([]store.Work, error) {
	q, args := dueQuery(""), []any{backend, limit, backend, now, limit, limit}
	if node != "" {
		f := " AND (claimed_by IN ('', ?) OR claim_until < ?)"
		q = dueQuery(f)
		args = []any{backend, node, now, limit, backend, now, node, now, limit, limit}
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Work
	for rows.Next() {
		var w store.Work
		if w.Zone, err = scanZone(rows, true, &w.Attempts); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// nextAttempt is the earliest retry of backend that is still in the future.
func nextAttempt(ctx context.Context, tx querier, backend string, now int64) (time.Time, error) {
	var next sql.NullInt64
	err := tx.QueryRowContext(ctx, `
		SELECT min(next_attempt) FROM backend_state
		WHERE backend = ? AND state = 'failed' AND next_attempt > ?`, backend, now).Scan(&next)
	return store.FromUnixNano(next.Int64), err
}
