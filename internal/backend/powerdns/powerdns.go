// Package powerdns is the backend that writes zones as rows into a
// MySQL/MariaDB database in PowerDNS's generic MySQL (gmysql) schema, read
// by PowerDNS Authoritative servers (launch=gmysql). dadns writes the rows
// itself; no PowerDNS API is involved. Each configured database is its own
// backend instance; replicas of it feed further PowerDNS servers.
package powerdns

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// Backend writes zones into one database.
type Backend struct {
	opt Options
	db  *sql.DB
	log *slog.Logger

	gate mysqldb.Gate[limits] // whether the tables were found compatible, and their limits

	mu     sync.Mutex
	recent map[zone.Name]planned  // the last Apply's zones, for Verify
	signed map[zone.Name]projHash // zones whose projection differs from what was pushed
	audit  map[string]planned     // AuditZone's work by pushed hash, taken by the next Apply

	ahead mysqldb.ReadAhead[zone.Name] // the last Apply's zones not verified since, read back many per query
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
	db, err := mysqldb.Open(cfg, opt.PoolSize)
	if err != nil {
		return nil, fmt.Errorf("powerdns: %w", err)
	}
	return &Backend{
		opt: opt, db: db, log: opt.Logger, gate: mysqldb.Gate[limits]{Default: defaultLimits},
		recent: map[zone.Name]planned{}, signed: map[zone.Name]projHash{}, audit: map[string]planned{},
		ahead: mysqldb.ReadAhead[zone.Name]{Max: maxArgs, MaxAge: verdictAge},
	}, nil
}

// verdictAge is how long a zone's rows read ahead by Verify answer for
// it: the dispatcher verifies a batch's zones right after applying them.
const verdictAge = 10 * time.Second

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
// connection epoch (see mysqldb.Gate).
func (b *Backend) prepare(ctx context.Context) (limits, error) {
	return b.gate.Prepare(ctx, mysqldb.Schema[limits]{Create: b.createTables, Inspect: b.inspect, Incompatible: ErrSchema})
}

// failed forgets that the schema was checked; the next call checks again.
func (b *Backend) failed() { b.gate.Failed() }

// limits returns the column limits known so far.
func (b *Backend) limits() limits { return b.gate.Limits() }

// The capabilities the dispatcher finds by type assertion.
var (
	_ backend.Verifier = (*Backend)(nil)
	_ backend.Auditor  = (*Backend)(nil)
	_ backend.Prober   = (*Backend)(nil)
	_ backend.Closer   = (*Backend)(nil)
)
