package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// defaultLimit caps Due when the caller gives no limit.
const defaultLimit = 500

// Due returns up to limit (default 500) zones for backend whose applied
// version is behind the desired one and which are due now: never tried for
// the current version, or failed with a next attempt not after now.
// Permanent failures wait for a new version; tombstones are due too, so the
// backend deletes. Oldest pushes come first (among retries, those due
// earliest are considered first). It also returns the earliest
// future next attempt among failing zones (zero if none), so the caller
// knows how long it may sleep. A backend never seen before is registered:
// every zone is due for it.
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
		if work, err = dueRows(ctx, tx, backend, now, limit); err != nil {
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
// due retries in retry-time order, each straight from an index range that
// stops at the limit, then keeps the oldest pushes of those. Its cost
// depends on the limit, not on how many zones or failures there are.
var dueQuery = `
	WITH due AS (
		SELECT * FROM (
			SELECT zone, seq, attempts FROM backend_state INDEXED BY backend_state_seq
			WHERE backend = ?1 AND state = 'pending'
			ORDER BY seq LIMIT ?3)
		UNION ALL
		SELECT * FROM (
			SELECT zone, seq, attempts FROM backend_state INDEXED BY backend_state_next
			WHERE backend = ?1 AND state IN ('failed', 'permanent') AND state = 'failed' AND next_attempt <= ?2
			ORDER BY next_attempt LIMIT ?3)
	)
	SELECT ` + zoneCols("z.", true) + `, due.attempts
	FROM due JOIN zones z ON z.name = due.zone
	ORDER BY due.seq
	LIMIT ?3`

func dueRows(ctx context.Context, tx *sql.Tx, backend string, now int64, limit int) ([]store.Work, error) {
	rows, err := tx.QueryContext(ctx, dueQuery, backend, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Work
	for rows.Next() {
		var w store.Work
		if w.Zone, err = scanZone(attemptsScanner{rows, &w.Attempts}, true); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// attemptsScanner scans a zone row followed by one extra column.
type attemptsScanner struct {
	rows  *sql.Rows
	extra *int
}

func (a attemptsScanner) Scan(dest ...any) error {
	return a.rows.Scan(append(dest, a.extra)...)
}

// nextAttemptQuery repeats the condition of the partial index
// backend_state_next (migration 003) so that SQLite uses it.
const nextAttemptQuery = `
	SELECT min(next_attempt) FROM backend_state
	WHERE backend = ? AND state IN ('failed', 'permanent') AND state = 'failed' AND next_attempt > ?`

// nextAttempt is the earliest retry of backend that is still in the future.
func nextAttempt(ctx context.Context, tx *sql.Tx, backend string, now int64) (time.Time, error) {
	var next sql.NullInt64
	err := tx.QueryRowContext(ctx, nextAttemptQuery, backend, now).Scan(&next)
	return store.FromUnixNano(next.Int64), err
}
