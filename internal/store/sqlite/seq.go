package sqlite

import (
	"context"
	"database/sql"
)

// The global push sequence orders work oldest-first independently of the
// wall clock. It used to cost every push an UPDATE ... RETURNING of the
// counter row, and every commit a write of that row's page to the log. Now
// the store counts in memory, under wmu, and keeps in the counter row a
// bound that no sequence number handed out exceeds: when the count reaches
// the bound, the transaction that takes the number also raises the bound
// by seqReserve (a block reserved ahead). After a restart the count starts
// at the stored bound, so numbers only ever grow; a crash leaves a gap of
// at most seqReserve, which does not matter to an ordering.

// seqReserve is how many sequence numbers one write of the counter row
// reserves.
const seqReserve = 1024

// pushSeq is the in-memory push sequence; guarded by Store.wmu.
type pushSeq struct {
	last    int64 // last number handed out
	stored  int64 // bound committed in the counter row
	pending int64 // bound to write in the current transaction (0: none)
}

// loadSeq reads the committed bound at open.
func (s *Store) loadSeq(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var v int64
	if err := s.writer.QueryRowContext(ctx, "SELECT value FROM counters WHERE name = 'push'").Scan(&v); err != nil {
		return err
	}
	s.seq = pushSeq{last: v, stored: v}
	return nil
}

// nextSeq returns the next push sequence number; the caller holds wmu and
// is inside a write transaction, which flushSeq completes.
func (s *Store) nextSeq() int64 {
	q := &s.seq
	q.last++
	if q.last > q.stored && q.last > q.pending {
		q.pending = q.last + seqReserve - 1
	}
	return q.last
}

// flushSeq writes the raised bound, if the transaction raised it, before
// its commit: a number above the committed bound is never committed
// without it.
func (s *Store) flushSeq(ctx context.Context, tx *sql.Tx) error {
	if s.seq.pending == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "UPDATE counters SET value = ? WHERE name = 'push'", s.seq.pending)
	return err
}

// seqCommitted records the outcome of the transaction's commit: the bound
// it wrote is stored, or, when it failed, is to be written again by the
// next transaction that takes a number.
func (s *Store) seqCommitted(ok bool) {
	q := &s.seq
	if q.pending != 0 && ok {
		q.stored = q.pending
	}
	q.pending = 0
}
