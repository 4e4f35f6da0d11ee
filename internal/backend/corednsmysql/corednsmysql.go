// Package corednsmysql is the backend that writes zones as rows into a
// MySQL/MariaDB database read by CoreDNS's mysql plugin
// (cybercinch/coredns_mysql_extend). Each configured database is its own
// backend instance. The row format is ../../../../shared/docs/coredns-mysql.md.
package corednsmysql

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// Backend writes zones into one database.
type Backend struct {
	opt Options
	db  *sql.DB
	log *slog.Logger
	zt  string // quoted zones table
	rt  string // quoted records table

	gate mysqldb.Gate[limits] // whether the tables were found compatible, and their limits

	mu   sync.Mutex
	held map[zone.Name]heldZone // zones written since start, by Apply: what their rows must be (for Verify and Repair)
	gone map[zone.Name]bool     // zones deleted since start and not applied since (for Repair)
	// reported are the zones not written since start whose rows Repair
	// found wrong, with what is wrong (to warn once per change).
	reported map[zone.Name]string
	signed   map[zone.Name]projHash // zones whose projection differs from what was pushed
	audit    map[string]planned     // AuditZone's work by pushed hash, taken by the next Apply
	desired  Desired                // reads the zones dadns stores (SetDesired); nil: held keeps every zone's rows

	ahead mysqldb.ReadAhead[zone.Name] // the last Apply's zones not verified since, read back many per query
}

// projHash ties the hash of a pushed zone to the hash of what was written.
type projHash struct{ full, stored string }

// New returns a backend for the database in opt. It does not connect:
// the tables are created or checked on the first write (Apply, Delete,
// Repair), so dadns starts (and its other backends work) while this
// database is unreachable. Reads (Zone, Zones, Verify) never create them.
func New(opt Options) (*Backend, error) {
	opt.defaults()
	if err := opt.check(); err != nil {
		return nil, fmt.Errorf("coredns_mysql: %w", err)
	}
	cfg, err := opt.driverConfig()
	if err != nil {
		return nil, fmt.Errorf("coredns_mysql: %w", err)
	}
	db, err := mysqldb.Open(cfg, opt.PoolSize)
	if err != nil {
		return nil, fmt.Errorf("coredns_mysql: %w", err)
	}
	return &Backend{
		opt: opt, db: db, log: opt.Logger, gate: mysqldb.Gate[limits]{Default: defaultLimits},
		zt: "`" + opt.ZonesTable + "`", rt: "`" + opt.RecordsTable + "`",
		held: map[zone.Name]heldZone{}, gone: map[zone.Name]bool{}, signed: map[zone.Name]projHash{}, audit: map[string]planned{},
		ahead: mysqldb.ReadAhead[zone.Name]{Max: maxArgs, MaxAge: verdictAge},
	}, nil
}

// verdictAge is how long a zone's rows read ahead by Verify answer for
// it: the dispatcher verifies a batch's zones right after applying them.
const verdictAge = 10 * time.Second

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
// connection epoch (see mysqldb.Gate). Write path only: it may create
// the tables.
func (b *Backend) prepare(ctx context.Context) (limits, error) {
	return b.gate.Prepare(ctx, mysqldb.Schema[limits]{Create: b.createTables, Inspect: b.inspect, Incompatible: ErrSchema})
}

// failed forgets that the schema was checked; the next call checks again.
func (b *Backend) failed() { b.gate.Failed() }

// limits returns the column limits known so far.
func (b *Backend) limits() limits { return b.gate.Limits() }
