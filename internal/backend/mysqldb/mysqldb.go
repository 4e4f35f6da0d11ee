// Package mysqldb is what the backends that write zones as rows into a
// MySQL/MariaDB database (coredns_mysql, powerdns) share about the
// database itself, apart from their tables and rows:
//
//   - Open: a connection pool that does not connect until first used (so
//     dadns starts while the database is unreachable), with the driver's
//     own messages sent to slog at debug level instead of stderr;
//   - TLSConfig: the TLS settings of a host name, CA file and skip flag;
//   - Gate: the schema check done once per connection epoch: the tables
//     are created when missing and inspected for what their columns can
//     hold; a failed statement closes the gate so that the next write
//     checks again, in case the database was replaced meanwhile.
package mysqldb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Open returns a pool of at most poolSize connections for cfg. It does
// not connect.
func Open(cfg *mysql.Config, poolSize int) (*sql.DB, error) {
	quietDriver.Do(func() { _ = mysql.SetLogger(driverLog{}) })
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	db.SetConnMaxLifetime(time.Hour)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// quietDriver routes the driver's own messages ("closing bad idle
// connection") to slog at debug level instead of stderr; the driver's
// logger is process-wide, so it is set once.
var quietDriver sync.Once

type driverLog struct{}

func (driverLog) Print(v ...any) { slog.Debug("mysql driver", "msg", fmt.Sprint(v...)) }

// TLSConfig is the TLS configuration for a connection to host: TLS 1.2
// or later, the server certificate checked against the PEM certificates
// in the file ca (the system's roots when ca is empty) unless skipVerify.
// Errors name the setting tls_ca.
func TLSConfig(host, ca string, skipVerify bool) (*tls.Config, error) {
	t := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify}
	if ca == "" {
		return t, nil
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("tls_ca: %w", err)
	}
	t.RootCAs = x509.NewCertPool()
	if !t.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls_ca %s: no PEM certificate in the file", ca)
	}
	return t, nil
}

// Gate remembers whether a backend's tables were found compatible, and
// the limits L (what the columns can hold) learnt then. The zero Gate is
// closed, with zero limits until Default is set. It is safe for
// concurrent use.
type Gate[L any] struct {
	// Default are the limits Limits reports while the gate is closed
	// (those of the tables the backend would create).
	Default L

	mu    sync.Mutex
	ready bool
	lim   L
}

// Schema is what a backend does to open the gate.
type Schema[L any] struct {
	// Create makes the tables that are missing.
	Create func(context.Context) error
	// Inspect checks the existing tables and returns their limits; an
	// error wrapping Incompatible when they cannot be used.
	Inspect func(context.Context) (L, error)
	// Incompatible is the error Inspect wraps for tables that do not fit.
	Incompatible error
}

// Prepare returns the limits at once while the gate is open; otherwise
// it creates the missing tables and inspects them, and opens the gate
// when both succeed. When Create fails, an incompatible table (which may
// be why it failed, e.g. a foreign key to an unfit table) is reported as
// Inspect says it, else Create's error is returned.
func (g *Gate[L]) Prepare(ctx context.Context, s Schema[L]) (L, error) {
	var none L
	if err := ctx.Err(); err != nil {
		return none, err
	}
	g.mu.Lock()
	ready, lim := g.ready, g.lim
	g.mu.Unlock()
	if ready {
		return lim, nil
	}
	if err := s.Create(ctx); err != nil {
		if _, ierr := s.Inspect(ctx); errors.Is(ierr, s.Incompatible) {
			return none, ierr
		}
		return none, err
	}
	lim, err := s.Inspect(ctx)
	if err != nil {
		return none, err
	}
	g.mu.Lock()
	g.ready, g.lim = true, lim
	g.mu.Unlock()
	return lim, nil
}

// Failed closes the gate: a statement failed, so the next Prepare checks
// the tables again.
func (g *Gate[L]) Failed() {
	g.mu.Lock()
	g.ready = false
	g.mu.Unlock()
}

// Limits returns the limits learnt when the gate opened, or Default
// while it is closed.
func (g *Gate[L]) Limits() L {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ready {
		return g.lim
	}
	return g.Default
}
