package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// bulkBackends remembers the backends whose last Due found warmDue zones
// or more.
type bulkBackends struct {
	mu   sync.Mutex
	bulk map[string]bool
}

func (b *bulkBackends) is(backend string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bulk[backend]
}

func (b *bulkBackends) set(backend string, bulk bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bulk == nil {
		b.bulk = map[string]bool{}
	}
	b.bulk[backend] = bulk
}

// defaultLimit caps Due when the caller gives no limit.
const defaultLimit = 500

// warmDue is the most due zones read on the writer connection
// (readWarmWait).
const warmDue = 64

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
	rows := func(ctx context.Context, q querier, limit int) error {
		var err error
		if work, err = dueRows(ctx, q, backend, now, limit); err != nil {
			return err
		}
		next, err = nextAttempt(ctx, q, backend, now)
		return err
	}
	// Up to warmDue due zones are read on the writer connection, waiting
	// for it if a write holds it: that costs the pushes queued behind a
	// few dozen cached page reads, where a reader's cold cache cost each
	// batch a system call per page (at 16 pushers, batches of about 10
	// zones: a third of the worker's CPU). A batch that reaches warmDue is
	// read again whole on a reader, so a big batch never holds the
	// writer, and while the backend's batches are that big (a burst),
	// the warm read is skipped.
	warmLimit := min(limit, warmDue)
	warm := false
	var err error
	if !s.bulk.is(backend) {
		if err := ctx.Err(); err != nil {
			return nil, time.Time{}, fmt.Errorf("store: due %s: %w", backend, err)
		}
		// A few dozen rows from cached pages: the read runs to its end
		// whatever its context (see byNames), without a watcher of it.
		warm, err = s.readWarmWait(true, func(q querier) error { return rows(context.WithoutCancel(ctx), q, warmLimit) })
	}
	if !warm || err == nil && len(work) >= warmLimit && warmLimit < limit {
		err = s.read(ctx, func(tx *sql.Tx) error { return rows(ctx, tx, limit) })
	}
	s.bulk.set(backend, len(work) >= warmDue)
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
			SELECT zone, seq, attempts FROM backend_state INDEXED BY backend_state_pending
			WHERE backend = ?1 AND state = 'pending'
			ORDER BY seq LIMIT ?3)
		UNION ALL
		SELECT * FROM (
			SELECT zone, seq, attempts FROM backend_state INDEXED BY backend_state_next
			WHERE backend = ?1 AND state IN ('failed', 'permanent') AND state = 'failed' AND next_attempt <= ?2
			ORDER BY next_attempt LIMIT ?3)
	)
	SELECT ` + zoneCols("z.", false) + `, z.canonical, due.attempts
	FROM due JOIN zones z ON z.name = due.zone
	ORDER BY due.seq
	LIMIT ?3`

func dueRows(ctx context.Context, q querier, backend string, now int64, limit int) ([]store.Work, error) {
	rows, err := q.QueryContext(ctx, dueQuery, backend, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Work
	for rows.Next() {
		var w store.Work
		var canonical string
		if w.Zone, err = scanZone(extraScanner{rows, []any{&canonical, &w.Attempts}}, false); err != nil {
			return nil, err
		}
		w.Zone.Canonical = canonical
		out = append(out, w)
	}
	return out, rows.Err()
}

// extraScanner scans a zone row followed by extra columns. Work carries
// the canonical text only: no backend reads the text as pushed, and
// reading it cost a copy of about as many bytes again per zone.
type extraScanner struct {
	rows  *sql.Rows
	extra []any
}

func (a extraScanner) Scan(dest ...any) error {
	return a.rows.Scan(append(dest, a.extra...)...)
}

// nextAttemptQuery repeats the condition of the partial index
// backend_state_next (migration 003) so that SQLite uses it.
const nextAttemptQuery = `
	SELECT min(next_attempt) FROM backend_state
	WHERE backend = ? AND state IN ('failed', 'permanent') AND state = 'failed' AND next_attempt > ?`

// nextAttempt is the earliest retry of backend that is still in the future.
func nextAttempt(ctx context.Context, q querier, backend string, now int64) (time.Time, error) {
	var next sql.NullInt64
	err := q.QueryRowContext(ctx, nextAttemptQuery, backend, now).Scan(&next)
	return store.FromUnixNano(next.Int64), err
}
