// Package mysql implements store.Store on MariaDB or MySQL 8, a single
// server or a Galera cluster, so that several dadns nodes share one state.
// Every write is one transaction retried as a whole when the server reports
// a deadlock or, on Galera, a certification failure; a push is acknowledged
// only after its COMMIT returned.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/go-sql-driver/mysql"
)

// Options configure Open. Zero values take defaults.
type Options struct {
	// Now is the clock for timestamps, due checks, claims and leases;
	// nil: the database server's clock (see clock.go).
	Now      func() time.Time
	MaxConns int // connection pool size; default 16

	local func() time.Time // this machine's clock under the server's (tests skew it); default time.Now
}

// Store is the MariaDB/MySQL-backed state.
type Store struct {
	db    *sql.DB
	now   func() time.Time
	clock *dbClock // the server's clock, when no clock was injected

	seqMu   sync.Mutex
	lastSeq int64

	fill filler // missing-row fills of recently registered backends

	galera   bool // the server is a Galera node (see galera.go)
	maxConns int
	lost     atomic.Int64 // claims and leases not found after a COMMIT that succeeded
}

var _ store.Store = (*Store)(nil)

// Open connects with dsn (go-sql-driver syntax; an address list
// "failover(host1:3306,host2:3306)" tries each host in turn), creates or
// upgrades the schema and returns the store.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: mysql: %w", err)
	}
	return OpenConfig(ctx, cfg, opt)
}

// OpenConfig is Open with a parsed driver configuration (see Keys.Config).
func OpenConfig(ctx context.Context, cfg *mysql.Config, opt Options) (*Store, error) {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 16
	}
	prepare(cfg)
	galera, err := causalOnGalera(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: mysql: %w", err)
	}
	conn, err := newServers(cfg, galera)
	if err != nil {
		return nil, fmt.Errorf("store: mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(opt.MaxConns)
	db.SetMaxIdleConns(opt.MaxConns)
	db.SetConnMaxLifetime(10 * time.Minute)
	s := &Store{db: db, now: opt.Now, galera: galera, maxConns: opt.MaxConns}
	if s.now == nil {
		if opt.local == nil {
			opt.local = time.Now
		}
		s.clock = &dbClock{local: opt.local}
		s.now = s.clock.now
	}
	if err := s.syncClock(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: mysql: server clock: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// ParseDSN parses a go-sql-driver DSN that names a database.
func ParseDSN(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.DBName == "" {
		return nil, errors.New("the DSN names no database")
	}
	return cfg, nil
}

// prepare sets what the store relies on: a connect timeout and strict mode.
func prepare(cfg *mysql.Config) {
	// Rows affected counts rows matched, not rows changed: a claim renewed
	// with the same values is still a claim held.
	cfg.ClientFoundRows = true
	// Statements with arguments go as one text query each, answered by the
	// server, rather than prepare/execute/close. On Galera the error of a
	// transaction aborted between two statements (a replicated transaction
	// needed its locks) is reported on the next command; when that was a
	// COM_STMT_CLOSE, which gets no answer, the error was lost and the
	// statements after it ran outside the transaction, committed one by
	// one (seen: one zone pushed through two nodes, both acknowledged as
	// version 1). Every command now has an answer, so the abort surfaces
	// and the whole transaction runs again. One round trip instead of three.
	cfg.InterpolateParams = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	// Strict mode: a value that does not fit is an error, never truncated.
	cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
}

// causalOnGalera turns on causal reads (wsrep_sync_wait=1) when the server
// is a Galera node: a read on one node then sees every transaction the
// cluster committed before it, so a push acknowledged by one dadns node is
// visible to the next request on any other. Plain MariaDB and MySQL have
// no such variable and need none.
func causalOnGalera(ctx context.Context, cfg *mysql.Config) (bool, error) {
	conn, err := newServers(cfg, false)
	if err != nil {
		return false, err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	var name, value string
	err = db.QueryRowContext(ctx, "SHOW VARIABLES LIKE 'wsrep_on'").Scan(&name, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !strings.EqualFold(value, "ON") {
		return false, nil
	}
	cfg.Params["wsrep_sync_wait"] = "1"
	return true, nil
}

// Close releases the pool. The store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// DB returns the connection pool (for the cluster code and tests).
func (s *Store) DB() *sql.DB { return s.db }

// maxAttempts bounds the whole-transaction retries of one write.
const maxAttempts = 12

// write runs fn in one read-write transaction and commits it, running the
// whole transaction again when the server aborted it for a deadlock, a lock
// wait timeout or a Galera certification conflict. fn must be safe to run
// more than once (it re-reads what it decides on).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := range maxAttempts {
		var committing bool
		committing, err = s.tryWrite(ctx, fn)
		if err == nil || !retryable(err, committing) || ctx.Err() != nil {
			return quorumErr(err)
		}
		s.leaveNode(err)
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
	return quorumErr(fmt.Errorf("gave up after %d attempts: %w", maxAttempts, err))
}

// leaveNode closes the idle connections after an error that says their
// Galera node lost quorum, so that the next attempt connects afresh: to
// another address of the list if one is ready (new connections are
// probed, see servers). Besides 1047, a node without quorum answers a
// causal read (wsrep_sync_wait) with a lock wait timeout (1205).
func (s *Store) leaveNode(err error) {
	var me *mysql.MySQLError
	if noQuorum(err) || s.galera && errors.As(err, &me) && me.Number == errLockWaitTimeout {
		s.db.SetMaxIdleConns(0)
		s.db.SetMaxIdleConns(s.maxConns)
	}
}

// quorumErr says in words what a no-quorum error means.
func quorumErr(err error) error {
	if err != nil && noQuorum(err) && !errors.Is(err, ErrNoQuorum) {
		return fmt.Errorf("%w: %w", ErrNoQuorum, err)
	}
	return err
}

// tryWrite runs fn once; committing reports that the error came from COMMIT.
func (s *Store) tryWrite(ctx context.Context, fn func(tx *sql.Tx) error) (committing bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return false, err
	}
	return true, tx.Commit()
}

// read runs fn in a read-only transaction so that it sees one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := range maxAttempts {
		err = s.tryRead(ctx, fn)
		if err == nil || !retryable(err, false) || ctx.Err() != nil {
			return quorumErr(err)
		}
		s.leaveNode(err)
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
	return quorumErr(err)
}

func (s *Store) tryRead(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// pause sleeps a short, growing, jittered time between attempts so that two
// nodes that conflicted do not meet again in lockstep.
func pause(ctx context.Context, attempt int) error {
	d := time.Duration(5<<min(attempt, 6)) * time.Millisecond
	d = d/2 + rand.N(d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// nextSeq returns a push sequence number: the wall clock in nanoseconds at
// microsecond resolution, strictly increasing within this process. Work is
// taken oldest first by it; nodes need no shared counter row (which every
// push on every Galera node would conflict on).
func (s *Store) nextSeq() int64 {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	seq := max(s.now().UnixMicro()*1000, s.lastSeq+1)
	s.lastSeq = seq
	return seq
}
