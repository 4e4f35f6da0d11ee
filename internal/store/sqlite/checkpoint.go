package sqlite

import (
	"context"
	"sync"
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

// checkpointEvery is how long commits may accumulate in the log before the
// background checkpoint copies them.
const checkpointEvery = 250 * time.Millisecond

// checkpointer runs the background checkpoints of one store.
type checkpointer struct {
	kick chan struct{} // a commit happened
	stop chan struct{}
	done sync.WaitGroup
}

// startCheckpoints starts the background checkpoint loop.
func (s *Store) startCheckpoints() {
	c := &s.ckpt
	c.kick = make(chan struct{}, 1)
	c.stop = make(chan struct{})
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		for {
			select {
			case <-c.stop:
				return
			case <-c.kick:
			}
			select {
			case <-c.stop:
				return
			case <-time.After(checkpointEvery):
			}
			// A failed checkpoint (another process holds a lock) is retried
			// after the next commit; the log is then merely longer.
			_, _ = s.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}()
}

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
