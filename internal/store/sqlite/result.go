package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/store"
)

// recordChunk bounds the rows one bookkeeping transaction writes: between
// them the writer lock is free, so a push waits for at most one chunk
// rather than for a whole batch of 500 zones.
const recordChunk = 64

// store.Applied records that backend now serves each zone at its version,
// in chunks of up to recordChunk zones (a crash between them leaves the
// rest due: they are applied again). Chunks of several callers (the
// workers of the backend instances) that wait for the writer meanwhile
// share one transaction, up to recordChunk rows in all, each in its own
// savepoint (s.books): the rows of one zone for every backend sit in one
// page, so one commit writes it once. applied_version never moves
// backwards, and a record for a
// version older than the desired one (a newer push arrived meanwhile) keeps
// the zone due. Records for versions the store never issued, and for zones
// purged meanwhile, are ignored.
func (s *Store) Applied(ctx context.Context, backend string, done []store.Applied) error {
	if len(done) == 0 {
		return nil
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return fmt.Errorf("store: applied %s: %w", backend, err)
	}
	now := store.UnixNano(s.now())
	for part := range slices.Chunk(done, recordChunk) {
		marks, err := appliedMarks(part)
		if err != nil {
			return fmt.Errorf("store: applied %s: %w", backend, err)
		}
		err = s.groupedWrite(&s.books, ctx, &groupWrite{
			weight: len(marks),
			marks:  &markSet{backend: backend, marks: marks, now: now},
			fn: func(ctx context.Context, tx *sql.Tx) error {
				return applied(ctx, tx, backend, marks, now)
			},
		})
		if err != nil {
			return fmt.Errorf("store: applied %s: %w", backend, err)
		}
	}
	return nil
}

// appliedMarks normalizes the names of part.
func appliedMarks(part []store.Applied) ([]store.Applied, error) {
	out := make([]store.Applied, len(part))
	for i, a := range part {
		name, err := store.NormName(a.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		a.Name = name
		out[i] = a
	}
	return out, nil
}

// applied records marks (names normalized) in one UPDATE ... FROM a
// VALUES list, and moves the backend's last_applied on when a row
// changed. ?3 >= desired_version is the "caught up" case; otherwise only
// the applied columns move and the row stays pending or failed. A name
// marked twice in one batch is recorded one mark at a time, in order,
// as the marks of separate calls would be (UPDATE ... FROM would apply
// one of them, either).
func applied(ctx context.Context, tx *sql.Tx, backend string, marks []store.Applied, now int64) error {
	seen := make(map[string]struct{}, len(marks))
	for _, a := range marks {
		if _, dup := seen[a.Name]; dup {
			return appliedOneByOne(ctx, tx, backend, marks, now)
		}
		seen[a.Name] = struct{}{}
	}
	// The VALUES list is padded with rows of NULLs (which match no row)
	// to a power of two, so that a handful of statement texts serve every
	// batch length (each connection keeps its statements prepared).
	n := 1
	for n < len(marks) {
		n *= 2
	}
	args := make([]any, 0, 2+3*n)
	args = append(args, backend, now)
	for _, a := range marks {
		args = append(args, a.Name, a.Version, a.Hash)
	}
	for range n - len(marks) {
		args = append(args, nil, nil, nil)
	}
	res, err := tx.ExecContext(ctx, appliedBatchQuery(n), args...)
	if err != nil {
		return err
	}
	return touchLastApplied(ctx, tx, backend, now, res)
}

// appliedBatchQuery is the UPDATE for n marks: ?1 backend, ?2 now, then
// name, version and hash of each mark.
func appliedBatchQuery(n int) string {
	var b strings.Builder
	b.WriteString(`
		UPDATE backend_state SET
			applied_version = m.version, applied_hash = m.hash, applied_at = ?2,
			state        = CASE WHEN m.version >= desired_version THEN 'applied' ELSE state END,
			attempts     = CASE WHEN m.version >= desired_version THEN 0 ELSE attempts END,
			next_attempt = CASE WHEN m.version >= desired_version THEN 0 ELSE next_attempt END,
			last_error   = CASE WHEN m.version >= desired_version THEN '' ELSE last_error END
		FROM (SELECT column1 AS zone, column2 AS version, column3 AS hash FROM (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(?%d, ?%d, ?%d)", 3+3*i, 4+3*i, 5+3*i)
	}
	b.WriteString(`)) AS m
		WHERE backend_state.zone = m.zone AND backend_state.backend = ?1
		  AND applied_version < m.version AND m.version <= desired_version`)
	return b.String()
}

// appliedOneByOne records marks one UPDATE each, in order.
func appliedOneByOne(ctx context.Context, tx *sql.Tx, backend string, marks []store.Applied, now int64) error {
	for _, a := range marks {
		res, err := tx.ExecContext(ctx, `
			UPDATE backend_state SET
				applied_version = ?3, applied_hash = ?4, applied_at = ?5,
				state        = CASE WHEN ?3 >= desired_version THEN 'applied' ELSE state END,
				attempts     = CASE WHEN ?3 >= desired_version THEN 0 ELSE attempts END,
				next_attempt = CASE WHEN ?3 >= desired_version THEN 0 ELSE next_attempt END,
				last_error   = CASE WHEN ?3 >= desired_version THEN '' ELSE last_error END
			WHERE zone = ?2 AND backend = ?1 AND applied_version < ?3 AND ?3 <= desired_version`,
			backend, a.Name, a.Version, a.Hash, now)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
		if err := touchLastApplied(ctx, tx, backend, now, res); err != nil {
			return err
		}
	}
	return nil
}

// touchLastApplied moves the backend's last applied mark to now when res
// changed a row.
func touchLastApplied(ctx context.Context, tx *sql.Tx, backend string, now int64, res sql.Result) error {
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err := tx.ExecContext(ctx,
		"UPDATE backends SET last_applied = max(last_applied, ?) WHERE name = ?", now, backend)
	return err
}

// Failed records failures for backend (in chunks of up to recordChunk
// zones, grouped as Applied's): attempts+1, the
// error, the next attempt, and state failed or permanent. A failure of a
// version that is no longer the desired one is ignored: the newer version
// is already pending with a fresh schedule.
func (s *Store) Failed(ctx context.Context, backend string, fails []store.Failure) error {
	if len(fails) == 0 {
		return nil
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return fmt.Errorf("store: failed %s: %w", backend, err)
	}
	now := store.UnixNano(s.now())
	for part := range slices.Chunk(fails, recordChunk) {
		err := s.groupedIn(&s.books, ctx, len(part), func(ctx context.Context, tx *sql.Tx) error {
			for _, f := range part {
				if err := failed(ctx, tx, backend, f, now); err != nil {
					return fmt.Errorf("%s: %w", f.Name, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: failed %s: %w", backend, err)
		}
	}
	return nil
}

func failed(ctx context.Context, tx *sql.Tx, backend string, f store.Failure, now int64) error {
	name, err := store.NormName(f.Name)
	if err != nil {
		return err
	}
	state, next := store.StateFailed, store.UnixNano(f.Next)
	if f.Permanent {
		state, next = store.StatePermanent, 0
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE backend_state SET
			state = ?, attempts = attempts + 1, last_error = ?, failed_at = ?, next_attempt = ?
		WHERE backend = ? AND zone = ? AND desired_version = ? AND applied_version < desired_version`,
		string(state), f.Err, now, next, backend, name, f.Version)
	return err
}

// markSet is one Applied chunk of a backend, as queued in a bookkeeping
// group.
type markSet struct {
	backend string
	marks   []store.Applied // names normalized
	now     int64
}

// allMarks reports whether every write of batch (more than one) records
// applied marks only.
func allMarks(batch []*groupWrite) bool {
	if len(batch) < 2 {
		return false
	}
	for _, w := range batch {
		if w.marks == nil {
			return false
		}
	}
	return true
}

// appliedMerged records the marks of every write of batch (all markSets)
// in one UPDATE ... FROM a VALUES list of (backend, zone, version, hash,
// now) and one update of the backends' last_applied (the group's time,
// for every backend of the group once any row changed), where each chunk
// alone takes a savepoint, its UPDATE, the backend's update and a release
// (with seven backend instances, 4 statements instead of 28). A zone
// marked twice for one backend in the batch is left to the one-by-one
// path (an error, nothing written), as are statement failures: a failed
// statement changes nothing.
func appliedMerged(ctx context.Context, tx *sql.Tx, batch []*groupWrite) error {
	type key struct{ backend, zone string }
	n := 0
	for _, w := range batch {
		n += len(w.marks.marks)
	}
	seen := make(map[key]struct{}, n)
	rows := 1
	for rows < n {
		rows *= 2
	}
	args := make([]any, 0, 5*rows)
	for _, w := range batch {
		for _, a := range w.marks.marks {
			k := key{w.marks.backend, a.Name}
			if _, dup := seen[k]; dup {
				return errDuplicateMark
			}
			seen[k] = struct{}{}
			args = append(args, w.marks.backend, a.Name, a.Version, a.Hash, w.marks.now)
		}
	}
	for range rows - n {
		args = append(args, nil, nil, nil, nil, nil)
	}
	res, err := tx.ExecContext(ctx, appliedMergedQuery(rows), args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	// Which backends' rows changed is not known without a RETURNING
	// clause, which SQLite buffers in a temporary b-tree (it cost as
	// much as the update): every backend of the group has its
	// last_applied moved on when any row changed.
	names := make([]any, 0, len(batch)+1)
	names = append(names, int64(0))
	for _, w := range batch {
		names = append(names, w.marks.backend)
		names[0] = max(names[0].(int64), w.marks.now)
	}
	_, err = tx.ExecContext(ctx, "UPDATE backends SET last_applied = max(last_applied, ?1) WHERE name IN ("+
		numberedPlaceholders(2, len(batch))+")", names...)
	return err
}

// errDuplicateMark: a bookkeeping group marks one zone twice for one
// backend; its writes are recorded one by one, in order.
var errDuplicateMark = errors.New("zone marked twice in one group")

// appliedMergedQuery is appliedBatchQuery for marks of several backends:
// rows of (backend, zone, version, hash, now).
func appliedMergedQuery(n int) string {
	var b strings.Builder
	b.WriteString(`
		UPDATE backend_state SET
			applied_version = m.version, applied_hash = m.hash, applied_at = m.at,
			state        = CASE WHEN m.version >= desired_version THEN 'applied' ELSE state END,
			attempts     = CASE WHEN m.version >= desired_version THEN 0 ELSE attempts END,
			next_attempt = CASE WHEN m.version >= desired_version THEN 0 ELSE next_attempt END,
			last_error   = CASE WHEN m.version >= desired_version THEN '' ELSE last_error END
		FROM (SELECT column1 AS backend, column2 AS zone, column3 AS version, column4 AS hash, column5 AS at
		      FROM (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(?%d, ?%d, ?%d, ?%d, ?%d)", 1+5*i, 2+5*i, 3+5*i, 4+5*i, 5+5*i)
	}
	b.WriteString(`)) AS m
		WHERE backend_state.zone = m.zone AND backend_state.backend = m.backend
		  AND applied_version < m.version AND m.version <= desired_version`)
	return b.String()
}

// numberedPlaceholders is "?from, ?from+1, ..." for n parameters.
func numberedPlaceholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "?%d", from+i)
	}
	return b.String()
}
