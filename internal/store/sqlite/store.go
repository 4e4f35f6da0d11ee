// Package sqlite is the embedded, default implementation of store.Store: one
// SQLite file (WAL, synchronous=FULL, group commit), one dadns node.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/dadns/dadns/internal/store"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (no cgo)
)

// maxConns bounds the pool: one writer at a time plus a few readers.
const maxConns = 4

// Options configure Open. Zero values take defaults.
type Options struct {
	Now func() time.Time // clock for timestamps and due checks; default time.Now
	// MaxSizeBytes caps the database file (not counting its WAL); 0 means
	// no cap. Writes past it fail as on a full disk.
	MaxSizeBytes int64
	// walBound is the -wal file size past which the log is truncated
	// (0: defaultWALBound); tests set it lower.
	walBound int64
}

// Store is the SQLite-backed state. Writes are serialized by a mutex, so
// concurrent callers never meet SQLITE_BUSY from each other; reads run in
// parallel on the pool (WAL).
type Store struct {
	db *sql.DB // readers (and background PASSIVE checkpoints)
	// writer is the one connection every write transaction runs on: its
	// page cache stays valid from one write to the next (SQLite discards a
	// connection's whole cache when another connection has written).
	writer *sql.DB
	// restarter runs the RESTART checkpoints (checkpoint.go): one
	// connection, no busy timeout.
	restarter *sql.DB
	now       func() time.Time
	// wmu: one write transaction at a time, pushes first (durable.go).
	wmu writerLock
	// wal syncs the log for the writes that wait for durability.
	wal      walSyncer
	group    grouper      // group commit of pushes and deletes
	books    grouper      // group commit of backend bookkeeping (Applied, Failed)
	lastPush atomic.Int64 // when a push group last committed (Unix ns)
	// mergedMarks counts the bookkeeping groups recorded in one
	// statement (appliedMerged).
	mergedMarks atomic.Int64
	known       knownBackends
	bulk        bulkBackends // backends whose last Due was a big batch
	// statements counts the SQL statements run, BEGIN and COMMIT included
	// (for benchmarks).
	statements atomic.Int64
	// synced counts the commits whose writers wait for durability,
	// relaxed the others (bookkeeping); s.wal.syncs the fdatasync calls.
	synced, relaxed atomic.Int64
	// warmReads counts the reads run on the writer connection (readWarm).
	warmReads atomic.Int64
	ckpt      checkpointer
	seq       pushSeq // guarded by wmu
}

// Open opens (creating if needed) the database at path, applies pending
// migrations and returns the store. The parent directory is created 0700 and
// the database file is kept 0600.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	useFdatasync()
	source, err := sizedDSN(ctx, path, opt.MaxSizeBytes)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if opt.walBound <= 0 {
		opt.walBound = defaultWALBound
	}
	// The first commit after the log starts over trims the -wal file to
	// the bound (see checkpoint.go).
	source += "&_pragma=" + url.QueryEscape(fmt.Sprintf("journal_size_limit(%d)", opt.walBound))
	s := &Store{now: opt.Now}
	s.wmu.init()
	s.wal.init(path + "-wal")
	s.group.sync = syncFull
	s.books.sync, s.books.maxWeight, s.books.linger = syncNormal, recordChunk, pushLinger
	db := openDB(readerDSN(source), &s.statements)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	writer := openDB(writerDSN(source), &s.statements)
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	restarter := openDB(restarterDSN(source), &s.statements)
	restarter.SetMaxOpenConns(1)
	s.db, s.writer, s.restarter = db, writer, restarter
	err = s.checkWAL(ctx)
	if err == nil {
		err = s.migrate(ctx)
	}
	if err != nil {
		db.Close()
		writer.Close()
		restarter.Close()
		return nil, err
	}
	s.startCheckpoints(path, opt.walBound)
	return s, nil
}

var _ store.Store = (*Store)(nil)

// checkWAL makes sure the writer connection is in WAL mode: durable
// writes sync the -wal file (durable.go), which exists only then. SQLite
// keeps another journal mode, silently, where the file system cannot
// hold a WAL.
func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: open: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("store: open: journal mode %q, want wal (the file system must support SQLite's WAL)", mode)
	}
	return nil
}

// Close releases the database. The store must not be used afterwards.
func (s *Store) Close() error {
	s.stopCheckpoints()
	// Copy the log into the database file, so that it is whole without its
	// log; failure is harmless (the next open reads the log).
	_, _ = s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	// optimize keeps the planner's statistics fresh; failure is harmless.
	_, _ = s.db.Exec("PRAGMA optimize")
	defer s.wal.close()
	if err := errors.Join(s.restarter.Close(), s.writer.Close(), s.db.Close()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE) under the writer
// mutex, commits it and returns once the commit is durable (durable.go).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeSync(ctx, syncFull, fn)
}

// writeRelaxed is write without waiting for durability: for backend
// bookkeeping only, never for a push. Those commits need no sync of
// their own (a crash loses at most some "applied" marks, and the zones
// are simply applied again), and the next push's sync of the write-ahead
// log makes them durable too.
func (s *Store) writeRelaxed(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeSync(ctx, syncNormal, fn)
}

// What a write waits for: syncFull, its commit on disk (a push, a
// delete, everything else); syncNormal, its commit returned (bookkeeping).
const (
	syncFull   = "FULL"
	syncNormal = "NORMAL"
)

func (s *Store) writeSync(ctx context.Context, mode string, fn func(tx *sql.Tx) error) error {
	ticket, err := s.writeLocked(ctx, mode == syncFull, fn)
	if err != nil || mode != syncFull {
		return err
	}
	return s.wal.wait(ticket)
}

// writeLocked runs fn in one write transaction under the writer mutex
// (in its urgent lane when urgent) and commits it, without waiting for
// the commit to be durable; it returns the commit's ticket for
// s.wal.wait.
func (s *Store) writeLocked(ctx context.Context, urgent bool, fn func(tx *sql.Tx) error) (uint64, error) {
	if urgent {
		// A durable write after a failed fdatasync could never be
		// acknowledged: it changes nothing.
		if err := s.wal.failed(); err != nil {
			return 0, err
		}
		s.wmu.LockUrgent()
	} else {
		s.wmu.Lock()
	}
	defer s.wmu.Unlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	err = fn(tx)
	if err == nil {
		err = s.flushSeq(ctx, tx)
	}
	if err != nil {
		_ = tx.Rollback()
		s.seqCommitted(false)
		return 0, err
	}
	if urgent {
		s.synced.Add(1)
	} else {
		s.relaxed.Add(1)
	}
	err = tx.Commit()
	s.seqCommitted(err == nil)
	if err != nil {
		return 0, err
	}
	ticket := s.wal.commit()
	s.committed()
	return ticket, nil
}

// readWarm runs fn on the writer connection when no write holds it, and
// reports whether it did. SQLite throws a reader's page cache away
// whenever another connection has written, so under pushes each read on
// the pool fetches every page it touches from the files again, a system
// call each; the writer's cache holds what the last writes touched. Only
// small reads come here (a push's ownership check, a worker's due zones
// when they are few). No other write runs meanwhile (this process writes
// only under wmu), so the statements fn runs see one state, as in a
// transaction.
func (s *Store) readWarm(fn func(q querier) error) (bool, error) {
	return s.readWarmWait(false, fn)
}

// readWarmWait is readWarm that, with wait, waits for the writer rather
// than give up: a backend worker's read, whose wait no DirectAdmin
// request sees (a push's own lookup never waits).
func (s *Store) readWarmWait(wait bool, fn func(q querier) error) (bool, error) {
	if wait {
		s.wmu.Lock()
	} else if !s.wmu.TryLock() {
		return false, nil
	}
	defer s.wmu.Unlock()
	s.warmReads.Add(1)
	return true, fn(s.writer)
}

// read runs fn in a read-only transaction so that it sees one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}
