package sqlite

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// Durability outside the writer lock.
//
// The writer connection commits with synchronous=NORMAL: SQLite writes a
// transaction's frames to the log (pwrite) and returns without syncing
// it. A write that must be durable (a push, a delete, everything but
// backend bookkeeping) then waits for an fdatasync(2) of the -wal file
// that began after its commit returned, and only then hears its outcome:
// fdatasync writes every dirty page of the file, whichever descriptor
// wrote it, so the frames are on disk exactly as SQLite's own sync at a
// synchronous=FULL commit would leave them (NORMAL keeps the log
// consistent across a power loss; this sync adds the durability of the
// commit). The sync runs without the writer lock: the next group of
// pushes, or the backends' bookkeeping, writes while the disk syncs, and
// every commit that returned before a sync began is covered by it, so
// concurrent waiters share one fdatasync.
//
// A committed change is visible to readers (a worker's Due, a status
// page) before its sync is done, as a bookkeeping mark always was; only
// a power loss or an operating system crash within that window can lose
// it, and its push was not acknowledged. A killed process loses nothing
// that reached the log: the kernel holds the pages.

// walSyncer syncs the -wal file for the writes that wait for it.
type walSyncer struct {
	path string
	// written counts the commits of the writer connection (under wmu,
	// after each COMMIT returned); a commit's ticket is the count after
	// it.
	written atomic.Uint64

	mu      sync.Mutex
	done    sync.Cond
	synced  uint64 // every commit up to this ticket is durable
	syncing bool   // an fdatasync runs
	f       *os.File
	// broken is the first error fdatasync returned. After it, every wait
	// fails: Linux reports a failed writeback to one fdatasync and may
	// have dropped the pages it could not write, so a later fdatasync
	// that succeeds says nothing about them (the log could miss a
	// commit it covers). The store refuses durable writes until dadns
	// restarts and SQLite recovers the log from what is on disk.
	broken error
	// syncs counts the fdatasync calls (for tests and benchmarks).
	syncs atomic.Int64
	// beforeSync, when set (tests), runs before each fdatasync.
	beforeSync func()
	// datasync is fdatasync(2) (tests replace it to make it fail).
	datasync func(fd int) error
}

func (w *walSyncer) init(path string) {
	w.path = path
	w.done.L = &w.mu
}

// commit notes a commit of the writer connection and returns its ticket;
// the caller holds wmu and its COMMIT returned.
func (w *walSyncer) commit() uint64 { return w.written.Add(1) }

// wait returns once the commit of ticket is durable: when a sync that
// began after it is done, running one itself when none runs.
func (w *walSyncer) wait(ticket uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.synced < ticket {
		if w.broken != nil {
			return w.brokenErr()
		}
		if w.syncing {
			w.done.Wait()
			continue
		}
		w.syncing = true
		target := w.written.Load() // each of these commits returned before the sync begins
		w.mu.Unlock()
		failedSync, err := w.sync()
		w.mu.Lock()
		w.syncing = false
		w.done.Broadcast()
		if failedSync && w.broken == nil {
			w.broken = err
		}
		if err != nil {
			return fmt.Errorf("sync log: %w", err)
		}
		w.synced = max(w.synced, target)
	}
	return nil
}

// failed returns an error once an fdatasync of the log has failed (see
// broken), else nil.
func (w *walSyncer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken == nil {
		return nil
	}
	return w.brokenErr()
}

func (w *walSyncer) brokenErr() error {
	return fmt.Errorf("sync log: an earlier fdatasync failed (%w); durable writes are refused until dadns restarts", w.broken)
}

// sync runs one fdatasync of the -wal file; failedSync reports that the
// error is fdatasync's own (not of finding or opening the file). The file is
// opened once and again whenever the path names another file (SQLite
// deletes the log when its last connection closes; a new one is then
// created).
func (w *walSyncer) sync() (failedSync bool, err error) {
	if w.beforeSync != nil {
		w.beforeSync()
	}
	fi, err := os.Stat(w.path)
	if err != nil {
		return false, err
	}
	if w.f != nil {
		if cur, err := w.f.Stat(); err != nil || !os.SameFile(cur, fi) {
			w.f.Close()
			w.f = nil
		}
	}
	if w.f == nil {
		f, err := os.Open(w.path)
		if err != nil {
			return false, err
		}
		w.f = f
	}
	w.syncs.Add(1)
	datasync := w.datasync
	if datasync == nil {
		datasync = syscall.Fdatasync
	}
	for {
		err := datasync(int(w.f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err != nil, err
		}
	}
}

// close releases the file.
func (w *walSyncer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// writerLock is the store's writer mutex with a lane for pushes: a write
// that a DirectAdmin server waits for (LockUrgent) goes before every
// plain waiter (backend bookkeeping, a worker's read on the writer
// connection), which would otherwise hold the pushes behind it. So that
// the plain waiters are not starved by a steady stream of pushes, they
// get the lock after maxUrgentRun urgent holders in a row.
type writerLock struct {
	mu     sync.Mutex
	free   sync.Cond
	held   bool
	urgent int // urgent waiters
	plain  int // plain waiters
	run    int // urgent holders in a row
}

// maxUrgentRun is how many urgent holders in a row may pass waiting plain
// ones.
const maxUrgentRun = 2

func (l *writerLock) init() { l.free.L = &l.mu }

// Lock takes the lock in the plain lane.
func (l *writerLock) Lock() { l.lock(false) }

// LockUrgent takes the lock in the urgent lane.
func (l *writerLock) LockUrgent() { l.lock(true) }

func (l *writerLock) lock(urgent bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if urgent {
		l.urgent++
		for l.held || l.plain > 0 && l.run >= maxUrgentRun {
			l.free.Wait()
		}
		l.urgent--
		l.run++
	} else {
		l.plain++
		for l.held || l.urgent > 0 && l.run < maxUrgentRun {
			l.free.Wait()
		}
		l.plain--
		l.run = 0
	}
	l.held = true
}

// TryLock takes the lock if it is free and no push waits for it.
func (l *writerLock) TryLock() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held || l.urgent > 0 {
		return false
	}
	l.held, l.run = true, 0
	return true
}

// Unlock releases the lock.
func (l *writerLock) Unlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		panic("sqlite: unlock of an unlocked writer lock")
	}
	l.held = false
	l.free.Broadcast()
}
