package sqlite

import (
	"context"
	"database/sql"
)

// The global push sequence orders work oldest-first independently of the
// wall clock. It used to cost every push an UPDATE ... RETURNING of the
// counter row, and every commit a write of that row's page to the log.
// Now a store reserves blocks of seqReserve numbers: the transaction whose
// push finds the block used up raises the counter row by seqReserve and
// takes the numbers below the new value; the next pushes take theirs from
// memory (under wmu). Write transactions hold SQLite's write lock from
// their start (_txlock=immediate), so two processes writing the same file
// (dadns serve and a CLI import, say) never reserve the same block; each
// orders its own pushes, and pushes of different processes are ordered by
// block. A restart (or a crash) reserves a new block above every number
// handed out before, leaving a gap, which does not matter to an ordering.

// seqReserve is how many sequence numbers one write of the counter row
// reserves.
const seqReserve = 1024

// pushSeq is the block of push sequence numbers of this store; guarded by
// Store.wmu.
type pushSeq struct {
	next  int64 // next number to hand out; past limit: none left
	limit int64 // last number of the block
	// reserved is set while the block was reserved by the current
	// transaction, which must commit for the block to be ours.
	reserved bool
}

// nextSeq returns the next push sequence number; the caller holds wmu and
// is inside the write transaction tx, which flushSeq completes.
func (s *Store) nextSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	q := &s.seq
	if q.next == 0 || q.next > q.limit {
		var hi int64
		err := tx.QueryRowContext(ctx,
			"UPDATE counters SET value = value + ? WHERE name = 'push' RETURNING value", seqReserve).Scan(&hi)
		if err != nil {
			return 0, err
		}
		q.next, q.limit, q.reserved = hi-seqReserve+1, hi, true
	}
	n := q.next
	q.next++
	return n, nil
}

// flushSeq runs before the commit of a transaction that reserved a block:
// the reservation may have run inside a push's savepoint that was rolled
// back since, so the counter row is raised to the block's end again,
// outside any savepoint (no other process wrote meanwhile: this
// transaction holds the write lock).
func (s *Store) flushSeq(ctx context.Context, tx *sql.Tx) error {
	if !s.seq.reserved {
		return nil
	}
	_, err := tx.ExecContext(ctx, "UPDATE counters SET value = max(value, ?) WHERE name = 'push'", s.seq.limit)
	return err
}

// seqCommitted records the outcome of the transaction: a block it
// reserved is this store's if it committed, and is given up otherwise
// (the next number reserves a new one).
func (s *Store) seqCommitted(ok bool) {
	q := &s.seq
	if q.reserved && !ok {
		q.next = 0
	}
	q.reserved = false
}
