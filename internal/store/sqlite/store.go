// Package sqlite is the embedded, default implementation of store.Store: one
// SQLite file (WAL, synchronous=FULL, group commit), one dadns node.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
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
}

// Store is the SQLite-backed state. Writes are serialized by a mutex, so
// concurrent callers never meet SQLITE_BUSY from each other; reads run in
// parallel on the pool (WAL).
type Store struct {
	db      *sql.DB
	relaxed *sql.DB // backend bookkeeping: synchronous=NORMAL, one connection
	now     func() time.Time
	wmu     sync.Mutex // one write transaction at a time
	group   grouper    // group commit of pushes and deletes
	// statements counts the SQL statements run, BEGIN and COMMIT included
	// (for benchmarks).
	statements atomic.Int64
	// synced counts the commits on the fsyncing connection.
	synced atomic.Int64
	ckpt   checkpointer
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
	s := &Store{now: opt.Now}
	db := openDB(source, &s.statements)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	// The relaxed connection records what backends did: those commits need
	// no fsync of their own (a crash loses at most some "applied" marks, and
	// the zones are simply applied again), and the next push's fsync of the
	// write-ahead log makes them durable too.
	relaxed := openDB(relaxedDSN(source), &s.statements)
	relaxed.SetMaxOpenConns(1)
	s.db, s.relaxed = db, relaxed
	if err := s.migrate(ctx); err != nil {
		db.Close()
		relaxed.Close()
		return nil, err
	}
	s.startCheckpoints()
	return s, nil
}

var _ store.Store = (*Store)(nil)

// Close releases the database. The store must not be used afterwards.
func (s *Store) Close() error {
	s.stopCheckpoints()
	// Copy the log into the database file, so that it is whole without its
	// log; failure is harmless (the next open reads the log).
	_, _ = s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	// optimize keeps the planner's statistics fresh; failure is harmless.
	_, _ = s.db.Exec("PRAGMA optimize")
	if err := errors.Join(s.relaxed.Close(), s.db.Close()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE) under the writer
// mutex and commits it. The commit is fsync'd (synchronous=FULL).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeOn(ctx, s.db, fn)
}

// writeRelaxed is write on the connection that does not fsync its commits:
// for backend bookkeeping only, never for a push.
func (s *Store) writeRelaxed(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeOn(ctx, s.relaxed, fn)
}

func (s *Store) writeOn(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if db == s.db {
		s.synced.Add(1)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.committed()
	return nil
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
