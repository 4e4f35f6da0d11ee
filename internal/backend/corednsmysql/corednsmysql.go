// Package corednsmysql is the backend that writes zones as rows into a
// MySQL/MariaDB database read by CoreDNS's mysql plugin
// (cybercinch/coredns_mysql_extend). Each configured database is its own
// backend instance. The row format is ../../../../shared/docs/coredns-mysql.md.
package corednsmysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dadns/dadns/internal/zone"
)

// Backend writes zones into one database.
type Backend struct {
	opt Options
	db  *sql.DB
	log *slog.Logger
	zt  string // quoted zones table
	rt  string // quoted records table

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
		return nil, fmt.Errorf("coredns_mysql: %w", err)
	}
	cfg, err := opt.driverConfig()
	if err != nil {
		return nil, fmt.Errorf("coredns_mysql: %w", err)
	}
	quietDriver.Do(func() { _ = mysql.SetLogger(driverLog{}) })
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("coredns_mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(opt.PoolSize)
	db.SetMaxIdleConns(opt.PoolSize)
	db.SetConnMaxLifetime(time.Hour)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Backend{
		opt: opt, db: db, log: opt.Logger,
		zt: "`" + opt.ZonesTable + "`", rt: "`" + opt.RecordsTable + "`",
		recent: map[zone.Name]planned{}, signed: map[zone.Name]projHash{}, audit: map[string]planned{},
	}, nil
}

// Probe implements backend.Prober: a ping of the database server (a
// connection from the pool, or a new one).
func (b *Backend) Probe(ctx context.Context) error {
	if err := b.db.PingContext(ctx); err != nil {
		return fmt.Errorf("coredns_mysql: ping %s:%d: %w", b.opt.Host, b.opt.Port, err)
	}
	return nil
}

// Close closes the connection pool.
func (b *Backend) Close() error { return b.db.Close() }

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
		// An existing table that does not fit (a foreign key to an
		// incompatible zones table) is better said by inspect.
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
