package sqlite

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite copies the write-ahead log back into the database file (a
// checkpoint) by default inside the commit that makes the log pass 1,000
// pages: that commit, a push waiting for its acknowledgement, then also
// writes megabytes and waits for a second fsync. Here no commit checkpoints
// (wal_autocheckpoint is 0 on every connection); a goroutine of the store
// does, in the background, shortly after commits, without the writer lock
// (SQLite lets commits go on during a PASSIVE checkpoint). Durability is
// unchanged: a commit is durable once its log frames are fsynced, before
// and after any checkpoint.
//
// A PASSIVE checkpoint copies frames but never starts the log over: SQLite
// restarts it (writes from its beginning again) only when a writer begins
// after a checkpoint copied every frame and no reader still reads from the
// log. Under steady pushes with readers always open that moment never
// comes, and the -wal file grew without bound (1.1 GiB after 100,000
// pushes). So once the file passes the bound (checked after every commit)
// the loop runs a PASSIVE checkpoint, then a RESTART checkpoint holding the
// store's writer mutex: pushes queue in the group commit meanwhile. No
// push then competes for SQLite's writer lock, which a RESTART needs and
// would rarely get between back-to-back group commits (SQLite's busy
// handler retries after 1, 2, 5, 10 ms..., and a group commit always holds
// the lock by then): that, not the readers, is what kept an earlier
// TRUNCATE above its limit. The checkpoint copies the few frames the
// PASSIVE runs left and waits for the readers still in the log (polling
// every restartPoll, at most restartWait; readers that begin once every
// frame is copied read the database file and do not hold it up). The next
// commit then writes from the log's beginning and trims the file to the
// bound (journal_size_limit, set in Open): the file is reused, not
// truncated and grown again. A reader that holds a snapshot longer (a
// reconciliation pass, an export) makes the RESTART give up; it is tried
// again with a growing pause, whether or not commits come, as a TRUNCATE,
// and the log grows only while that reader lasts.

// checkpointEvery is how long commits may accumulate in the log before the
// background checkpoint copies them.
const checkpointEvery = 250 * time.Millisecond

// defaultWALBound is the -wal file size past which the log is restarted.
const defaultWALBound = 32 << 20

// restartWait bounds how long a RESTART checkpoint (and the pushes queued
// behind it) waits for readers; past it the checkpoint gives up and is
// retried after a later commit, maxBackoff at the latest.
const (
	restartWait = 50 * time.Millisecond
	maxBackoff  = 8 * time.Second
)

// checkpointer runs the background checkpoints of one store.
type checkpointer struct {
	wal   string // the -wal file
	bound int64  // restart the log once the file is larger
	kick  chan struct{}
	stop  chan struct{}
	done  sync.WaitGroup
	// restarted counts the RESTART checkpoints that completed, failed
	// those that gave up (for tests).
	restarted, failed atomic.Int64
}

// startCheckpoints starts the background checkpoint loop.
func (s *Store) startCheckpoints(path string, bound int64) {
	c := &s.ckpt
	c.wal, c.bound = path+"-wal", bound
	if c.bound <= 0 {
		c.bound = defaultWALBound
	}
	c.kick = make(chan struct{}, 1)
	c.stop = make(chan struct{})
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		backoff := checkpointEvery
		for {
			select {
			case <-c.stop:
				return
			case <-c.kick:
			}
			if !c.wait() {
				return
			}
			if !c.overBound() {
				// A failed checkpoint (another process holds a lock) is
				// retried after the next commit; the log is then merely
				// longer.
				_, _ = s.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
				continue
			}
			// After a give-up the log may have grown far past the bound
			// while the reader lasted, and pushes may have stopped since:
			// TRUNCATE then gives the space back at once, where RESTART
			// leaves it to the next commit to trim the file.
			mode := "RESTART"
			if backoff > checkpointEvery {
				mode = "TRUNCATE"
			}
			if s.restartWAL(mode) {
				backoff = checkpointEvery
				continue
			}
			// A reader held it up (a long one: a reconciliation pass, an
			// export): let pushes run, then try again, waiting longer each
			// time the reader is still there; also when no push comes any
			// more, so that the log does not stay past the bound.
			select {
			case <-c.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			s.committed()
		}
	}()
}

// wait returns checkpointEvery after the commit that started it, or as
// soon as a commit makes the log reach the bound; false when the store
// closes.
func (c *checkpointer) wait() bool {
	t := time.NewTimer(checkpointEvery)
	defer t.Stop()
	for !c.overBound() {
		select {
		case <-c.stop:
			return false
		case <-t.C:
			return true
		case <-c.kick:
		}
	}
	return true
}

// overBound reports whether the -wal file has grown past the bound.
func (c *checkpointer) overBound() bool {
	fi, err := os.Stat(c.wal)
	return err == nil && fi.Size() > c.bound
}

// restartWAL copies the whole log into the database file and makes the
// next commit start it over (mode RESTART), or truncates it (TRUNCATE),
// with every write of this store held back meanwhile (see above). It
// reports whether it did.
func (s *Store) restartWAL(mode string) bool {
	// Copy, while pushes still commit, what the last run left, twice (the
	// second run copies what was committed during the first): the RESTART
	// then has few frames to copy and sync with writes held (in
	// TestWALStaysBounded the median hold went from 9 to 6 ms).
	for range 2 {
		_, _ = s.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ctx := context.Background()
	t0 := time.Now()
	for {
		var busy, logged, copied int64
		err := s.restarter.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logged, &copied)
		if err == nil && busy == 0 {
			s.ckpt.restarted.Add(1)
			return true
		}
		if time.Since(t0) > restartWait {
			s.ckpt.failed.Add(1)
			return false
		}
		time.Sleep(restartPoll)
	}
}

// restartPoll is the pause between two tries of a RESTART checkpoint
// that readers held up. SQLite's busy handler would sleep 1, 2, 5, 10 ms...
// between tries; readers here end within a millisecond or so, so the
// store polls more finely itself, on a connection without busy timeout
// (restarterDSN).
const restartPoll = 200 * time.Microsecond

// committed tells the checkpoint loop that the log grew.
func (s *Store) committed() {
	select {
	case s.ckpt.kick <- struct{}{}:
	default:
	}
}

// stopCheckpoints ends the loop; Close then checkpoints what is left.
func (s *Store) stopCheckpoints() {
	close(s.ckpt.stop)
	s.ckpt.done.Wait()
}
