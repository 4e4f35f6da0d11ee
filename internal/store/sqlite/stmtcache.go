package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"modernc.org/sqlite"
)

// The driver prepares a statement afresh for every Exec and Query: SQLite
// parses and plans the SQL text each time, which cost more CPU than
// running the statements of a push. Every connection here keeps its
// statements prepared, keyed by their text, and reuses them; SQLite
// re-prepares one by itself when the schema changes under it.

// maxCachedStmts bounds the statements one connection keeps prepared; the
// store has a few dozen distinct ones (IN lists of other lengths come and
// go).
const maxCachedStmts = 96

// openDB opens source with a statement cache on each connection; every
// statement run on it is counted in n.
func openDB(source string, n *atomic.Int64) *sql.DB {
	return sql.OpenDB(&connector{dsn: source, drv: &sqlite.Driver{}, n: n})
}

type connector struct {
	dsn string
	drv *sqlite.Driver
	n   *atomic.Int64
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	cn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: cn, stmts: map[string]*cachedStmt{}, n: c.n}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

// driverConn is what the SQLite driver's connections implement.
type driverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

// cachingConn is one connection with its prepared statements. database/sql
// uses a connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	conn  driver.Conn
	stmts map[string]*cachedStmt
	n     *atomic.Int64 // statements run (BEGIN and COMMIT included)
}

// cachedStmt is a prepared statement; busy while rows of it are open.
type cachedStmt struct {
	st   driver.Stmt
	busy bool
}

var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
)

func (c *cachingConn) inner() (driverConn, error) {
	dc, ok := c.conn.(driverConn)
	if !ok {
		return nil, errors.New("sqlite: driver connection lacks a context method")
	}
	return dc, nil
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	dc, err := c.inner()
	if err != nil {
		return nil, err
	}
	return dc.PrepareContext(ctx, query)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	dc, err := c.inner()
	if err != nil {
		return nil, err
	}
	c.n.Add(2) // BEGIN, and COMMIT or ROLLBACK
	return dc.BeginTx(ctx, opts)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	dc, err := c.inner()
	if err != nil {
		return err
	}
	return dc.ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool {
	dc, err := c.inner()
	return err == nil && dc.IsValid()
}

func (c *cachingConn) Ping(ctx context.Context) error {
	dc, err := c.inner()
	if err != nil {
		return err
	}
	return dc.Ping(ctx)
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.st.Close())
		delete(c.stmts, q)
	}
	errs = append(errs, c.conn.Close())
	return errors.Join(errs...)
}

// stmt returns the prepared statement for query, preparing and caching it
// if needed. A statement whose rows are still open is not shared: the
// caller then gets a statement of its own (release closes it).
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, bool, error) {
	if cs, ok := c.stmts[query]; ok && !cs.busy {
		return cs, true, nil
	}
	dc, err := c.inner()
	if err != nil {
		return nil, false, err
	}
	st, err := dc.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	cs := &cachedStmt{st: st}
	if _, taken := c.stmts[query]; taken {
		return cs, false, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		c.evictOne()
	}
	if len(c.stmts) >= maxCachedStmts {
		return cs, false, nil
	}
	c.stmts[query] = cs
	return cs, true, nil
}

// evictOne drops one statement that no rows use.
func (c *cachingConn) evictOne() {
	for q, cs := range c.stmts {
		if !cs.busy {
			_ = cs.st.Close()
			delete(c.stmts, q)
			return
		}
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	cs, cached, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	ex, ok := cs.st.(driver.StmtExecContext)
	if !ok {
		_ = cs.st.Close()
		return nil, errors.New("sqlite: driver statement lacks ExecContext")
	}
	res, err := ex.ExecContext(ctx, args)
	if !cached {
		err = errors.Join(err, cs.st.Close())
	}
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	cs, cached, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	qc, ok := cs.st.(driver.StmtQueryContext)
	if !ok {
		_ = cs.st.Close()
		return nil, errors.New("sqlite: driver statement lacks QueryContext")
	}
	rows, err := qc.QueryContext(ctx, args)
	if err != nil {
		if !cached {
			_ = cs.st.Close()
		}
		return nil, err
	}
	cs.busy = true
	return &stmtRows{Rows: rows, cs: cs, own: !cached}, nil
}

// stmtRows frees its statement for the next query once closed.
type stmtRows struct {
	driver.Rows
	cs     *cachedStmt
	own    bool
	closed bool
}

func (r *stmtRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	r.cs.busy = false
	if r.own {
		err = errors.Join(err, r.cs.st.Close())
	}
	return err
}
