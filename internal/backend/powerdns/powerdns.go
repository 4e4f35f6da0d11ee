// Package powerdns is the backend that writes zones as rows into a
// MySQL/MariaDB database in PowerDNS's generic MySQL (gmysql) schema, read
// by PowerDNS Authoritative servers (launch=gmysql). dadns writes the rows
// itself; no PowerDNS API is involved. Each configured database is its own
// backend instance; replicas of it feed further PowerDNS servers.
package powerdns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Backend writes zones into one database.
type Backend struct {
	opt Options
	db  *sql.DB
	log *slog.Logger

	mu     sync.Mutex
	ready  bool                   // tables exist and were found compatible
	lim    limits                 // valid when ready
	recent map[zone.Name]planned  // the last Apply's zones, for Verify
	signed map[zone.Name]projHash // zones whose projection differs from what was pushed
	audit  map[string]planned     // AuditZone's work by pushed hash, taken by the next Apply
}

// projHash ties the hash of a pushed zone to the hash of what was written.
type projHash struct{ full, stored string }

// New returns a backend for the database in opt. It does not connect:
// the tables are created or checked on first use, so dadns starts (and its
// other backends work) while this database is unreachable.
func New(opt Options) (*Backend, error) {
	opt.defaults()
	if err := opt.check(); err != nil {
		return nil, fmt.Errorf("powerdns: %w", err)
	}
	cfg, err := opt.driverConfig()
	if err != nil {
		return nil, fmt.Errorf("powerdns: %w", err)
	}
	quietDriver.Do(func() { _ = mysql.SetLogger(driverLog{}) })
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("powerdns: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(opt.PoolSize)
	db.SetMaxIdleConns(opt.PoolSize)
	db.SetConnMaxLifetime(time.Hour)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Backend{
		opt: opt, db: db, log: opt.Logger,
		recent: map[zone.Name]planned{}, signed: map[zone.Name]projHash{}, audit: map[string]planned{},
	}, nil
}

// Close closes the connection pool.
func (b *Backend) Close() error { return b.db.Close() }

// Probe reports whether the database answers (a ping over the pool).
func (b *Backend) Probe(ctx context.Context) error {
	if err := b.db.PingContext(ctx); err != nil {
		return fmt.Errorf("powerdns: ping: %w", err)
	}
	return nil
}

// prepare makes sure the tables exist and are compatible, once per
// connection epoch: a failed statement makes the next call check again,
// in case the database was replaced meanwhile.
func (b *Backend) prepare(ctx context.Context) (limits, error) {
	if err := ctx.Err(); err != nil {
		return limits{}, err
	}
	b.mu.Lock()
	ready, lim := b.ready, b.lim
	b.mu.Unlock()
	if ready {
		return lim, nil
	}
	if err := b.createTables(ctx); err != nil {
		if _, ierr := b.inspect(ctx); errors.Is(ierr, ErrSchema) {
			return limits{}, ierr
		}
		return limits{}, err
	}
	lim, err := b.inspect(ctx)
	if err != nil {
		return limits{}, err
	}
	b.mu.Lock()
	b.ready, b.lim = true, lim
	b.mu.Unlock()
	return lim, nil
}

// failed forgets that the schema was checked; the next call checks again.
func (b *Backend) failed() {
	b.mu.Lock()
	b.ready = false
	b.mu.Unlock()
}

// limits returns the column limits known so far.
func (b *Backend) limits() limits {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready {
		return b.lim
	}
	return defaultLimits
}

// quietDriver routes the driver's own messages ("closing bad idle
// connection") to slog at debug level instead of stderr.
var quietDriver sync.Once

type driverLog struct{}

func (driverLog) Print(v ...any) { slog.Debug("mysql driver", "msg", fmt.Sprint(v...)) }

// The capabilities the dispatcher finds by type assertion.
var (
	_ backend.Verifier = (*Backend)(nil)
	_ backend.Auditor  = (*Backend)(nil)
	_ backend.Prober   = (*Backend)(nil)
	_ backend.Closer   = (*Backend)(nil)
)
