package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxGroup bounds how many pushes share one transaction.
const maxGroup = 256

// groupWrite is one caller's part of a group commit.
type groupWrite struct {
	fn     func(ctx context.Context, tx *sql.Tx) error
	weight int // rows it writes, for a group's maxWeight
	done   chan error
	// marks, when set, are the applied marks fn records: a group of
	// such writes records them all in one statement (appliedMerged),
	// and runs each fn in its savepoint only if that fails.
	marks *markSet
}

// grouper batches concurrent pushes into one transaction, so that sixteen
// DirectAdmin pushers cost one fsync rather than sixteen. Each write runs in
// its own savepoint: one failing write is rolled back alone, and every
// caller learns its own outcome only after the shared commit is durable.
// The backend workers' bookkeeping (Applied, Failed) has a grouper of its
// own, whose writers do not wait for a sync, as writeRelaxed's.
type grouper struct {
	// sync is what the writes wait for: syncFull, their commit on disk,
	// in the writer lock's urgent lane (pushes, deletes); syncNormal,
	// the commit alone, in the plain lane (backend bookkeeping, see
	// writeRelaxed).
	sync string
	// maxWeight bounds the rows one group writes (0: no bound), so that
	// a push waits for at most that many bookkeeping rows; a write
	// heavier than it runs alone.
	maxWeight int
	// linger, when not 0, holds a group back while pushes come (at most
	// that long): it starts after the next push's commit, so that the
	// marks of every backend instance that arrive meanwhile share one
	// commit, which never holds a push up.
	linger  time.Duration
	mu      sync.Mutex
	queue   []*groupWrite
	leading bool
	timer   *time.Timer // a held-back group's start
}

// startLead starts the group held back (see linger), from its timer
// (fired) or a push's commit; it does nothing when the group has started.
// The caller of the group's first write leads it (see handLead).
func (s *Store) startLead(g *grouper, fired bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.timer
	if t == nil || !fired && !t.Stop() {
		return
	}
	g.timer = nil
	g.handLead()
}

// errLead, received on a queued write's done channel, tells its caller to
// lead the next group (it is still queued: its outcome comes after).
var errLead = errors.New("sqlite: lead the next group")

// handLead makes the caller of the first queued write lead the next group;
// g.mu is held and the queue is not empty. That caller waits anyway, and
// its goroutine has run statements before (its stack is grown): a new
// goroutine per group cost a start, a wake-up and the growth of its stack
// through SQLite's deep frames.
func (g *grouper) handLead() {
	g.queue[0].done <- errLead
}

// pushLinger is how long bookkeeping is held back for the next push's
// commit (grouper.linger), and pushesComing how long pushes count as
// coming after one committed. DirectAdmin pushing one zone at a time
// while seven backends apply each change sends one every 5 to 15 ms on a
// busy 2-core machine: the marks of all seven then wait for the next push
// and share its bookkeeping commit (in dadns at C=1 the backends' marks
// had cost about five commits per push).
const (
	pushLinger   = 20 * time.Millisecond
	pushesComing = 100 * time.Millisecond
)

// pushed notes that a push group committed and starts the bookkeeping
// held back for it.
func (s *Store) pushed() {
	s.lastPush.Store(time.Now().UnixNano())
	s.startLead(&s.books, false)
}

// pushing reports whether a push committed within the last pushesComing.
func (s *Store) pushing() bool {
	return time.Now().UnixNano()-s.lastPush.Load() < int64(pushesComing)
}

// grouped runs fn inside a group commit and returns once it is durable (or
// failed). fn must not keep tx, and must run its statements with the
// context it is given: the transaction is shared, and one caller giving up
// (its ctx ends) must not interrupt the statements of the others (SQLite
// may roll the whole transaction back on an interrupt). ctx only bounds
// the wait to join a group.
func (s *Store) grouped(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.groupedIn(&s.group, ctx, 1, fn)
}

// groupedIn is grouped in group g, for a write of weight rows.
func (s *Store) groupedIn(g *grouper, ctx context.Context, weight int, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.groupedWrite(g, ctx, &groupWrite{fn: fn, weight: weight})
}

// groupedWrite is groupedIn for a prepared write.
func (s *Store) groupedWrite(g *grouper, ctx context.Context, w *groupWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.done = make(chan error, 1)
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.leading
	g.leading = true
	if lead && g.linger > 0 && s.pushing() {
		// Pushes are coming: the next push's commit starts this group
		// (s.pushed), or the timer does.
		g.timer = time.AfterFunc(g.linger, func() { s.startLead(g, true) })
		lead = false
	}
	g.mu.Unlock()
	if lead {
		s.lead(g)
	}
	for {
		err := <-w.done
		if err != errLead {
			return err
		}
		s.lead(g) // w is first in the queue: in the group it leads
	}
}

// lead commits one batch; writes queued meanwhile get a new leader once
// it is durable (pushes that arrive during a commit and its sync share the
// next one, as few commits as the disk allows; the writer lock is free
// during the sync, for the backends' bookkeeping).
func (s *Store) lead(g *grouper) {
	g.mu.Lock()
	n, weight := 1, g.queue[0].weight
	for n < min(len(g.queue), maxGroup) {
		weight += g.queue[n].weight
		if g.maxWeight > 0 && weight > g.maxWeight {
			break
		}
		n++
	}
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	s.commitGroupThen(g.sync, batch, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.queue) > 0 {
			g.handLead()
			return
		}
		g.leading = false
	})
}

// commitGroup runs every write of batch in one transaction. A write that
// makes SQLite roll the whole transaction back (SQLITE_FULL, say) fails
// alone: the others run again in a new transaction. A failed commit fails
// every write of the batch; none of them is acknowledged. With mode
// syncFull each caller hears its outcome only once the commit is durable.
func (s *Store) commitGroup(mode string, batch []*groupWrite) {
	s.commitGroupThen(mode, batch, nil)
}

// commitGroupThen is commitGroup that calls committed (when not nil)
// once the batch is durable, before its callers hear of it.
func (s *Store) commitGroupThen(mode string, batch []*groupWrite, committed func()) {
	ctx := context.Background()
	var ticket uint64
	var errs []error
	// Pushes rarely fail: a group of them runs first without savepoints
	// (two statements fewer per push); when one fails, the transaction
	// is rolled back whole and the group runs again, each write in its
	// savepoint. Bookkeeping groups (marks, failures) take savepoints
	// from the start (or their merged statement).
	isolate := mode != syncFull
	for len(batch) > 0 {
		errs = make([]error, len(batch))
		aborted := -1
		optimistic := false
		var err error
		ticket, err = s.writeLocked(ctx, mode == syncFull, func(tx *sql.Tx) error {
			if len(batch) == 1 {
				// Alone in its transaction, a write needs no savepoint:
				// its failure rolls the whole transaction back (one
				// push at a time, two statements fewer each).
				errs[0] = batch[0].fn(ctx, tx)
				return errs[0]
			}
			if !isolate {
				optimistic = true
				for _, w := range batch {
					if err := w.fn(ctx, tx); err != nil {
						return err
					}
				}
				return nil
			}
			if allMarks(batch) {
				if err := appliedMerged(ctx, tx, batch); err == nil {
					s.mergedMarks.Add(1)
					return nil
				}
				// One statement failed and changed nothing: each write
				// again on its own, to find whose marks fail.
			}
			for i, w := range batch {
				errs[i] = inSavepoint(ctx, tx, w.fn)
				if errors.Is(errs[i], errTxAborted) {
					// SQLite rolled the whole transaction back: a later
					// SAVEPOINT would open and RELEASE commit a new one,
					// storing writes whose callers are told they failed.
					aborted = i
					return errs[i]
				}
			}
			return nil
		})
		if optimistic && err != nil {
			// A write failed (or the commit did): nothing of the group
			// is stored; again with a savepoint each, which tells whose.
			isolate = true
			continue
		}
		if aborted >= 0 {
			batch[aborted].done <- errs[aborted]
			batch = append(batch[:aborted:aborted], batch[aborted+1:]...)
			continue
		}
		for i := range batch {
			if err != nil && errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
		break
	}
	if len(batch) == 0 {
		if committed != nil {
			committed()
		}
		return
	}
	if mode == syncFull && ticket > 0 {
		// The writer lock is free: bookkeeping held back while pushes
		// commit goes now, during the sync.
		s.pushed()
		if err := s.wal.wait(ticket); err != nil {
			// The writes are in the log but not known to be on disk:
			// none of them is acknowledged.
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
	if committed != nil {
		committed()
	}
	for i, w := range batch {
		w.done <- errs[i]
	}
}

// errTxAborted marks a write after which SQLite had already rolled back
// the whole group transaction.
var errTxAborted = errors.New("transaction rolled back")

// inSavepoint runs fn so that its failure undoes only its own changes.
func inSavepoint(ctx context.Context, tx *sql.Tx, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT push"); err != nil {
		return err
	}
	if err := fn(ctx, tx); err != nil {
		if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO push"); rbErr != nil {
			return fmt.Errorf("%w (%w: %v)", err, errTxAborted, rbErr)
		}
		_, _ = tx.ExecContext(ctx, "RELEASE push")
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE push")
	return err
}
