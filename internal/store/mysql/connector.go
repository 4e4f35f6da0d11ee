package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
)

// ErrNoQuorum wraps the errors of a Galera node outside the primary
// component (it lost quorum, or is still joining): the server refuses
// reads and writes, and nothing was stored.
var ErrNoQuorum = errors.New("the Galera node is not in the primary component (no quorum); nothing was stored")

// FailoverNet is the DSN network name for an address list:
// "user:pass@failover(db1:3306,db2:3306,db3:3306)/dadns" (what
// datastore.host "db1,db2,db3" becomes). The store's connector (servers)
// reads it; the driver itself does not know it.
const FailoverNet = "failover"

// servers is the store's driver.Connector: each new connection goes to the
// first of its addresses that answers and, on Galera, is ready (synced and
// in the primary component), starting with the one that served last. One
// address (a plain "tcp" or "unix" DSN) is tried alone.
type servers struct {
	addrs  []string
	conns  []driver.Connector
	last   atomic.Int64
	galera bool // probe readiness on each new connection
}

// newServers builds the connector for cfg; a failover(...) address list
// becomes one TCP connector per address.
func newServers(cfg *mysql.Config, galera bool) (*servers, error) {
	s := &servers{galera: galera}
	if cfg.Net != FailoverNet {
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		s.addrs, s.conns = []string{cfg.Addr}, []driver.Connector{c}
		return s, nil
	}
	for _, a := range strings.Split(cfg.Addr, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		one := cfg.Clone()
		one.Net, one.Addr = "tcp", a
		c, err := mysql.NewConnector(one)
		if err != nil {
			return nil, err
		}
		s.addrs, s.conns = append(s.addrs, a), append(s.conns, c)
	}
	if len(s.addrs) == 0 {
		return nil, errors.New("empty address list")
	}
	return s, nil
}

// Connect returns a connection to the first usable address.
func (s *servers) Connect(ctx context.Context) (driver.Conn, error) {
	start := int(s.last.Load())
	var errs []error
	for i := range s.addrs {
		n := (start + i) % len(s.addrs)
		c, err := s.conns[n].Connect(ctx)
		if err == nil && s.galera {
			if err = ready(ctx, c); err != nil {
				_ = c.Close()
			}
		}
		if err == nil {
			s.last.Store(int64(n))
			return c, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.addrs[n], err))
	}
	return nil, errors.Join(errs...)
}

// Driver is go-sql-driver's.
func (s *servers) Driver() driver.Driver { return &mysql.MySQLDriver{} }

// ready checks that a new connection's Galera node takes reads and writes:
// wsrep_ready ON and the cluster status Primary. The check itself must not
// wait for causality (a node without quorum would hold it until the
// causal-read timeout), so wsrep_sync_wait is off around it.
func ready(ctx context.Context, c driver.Conn) error {
	ex, ok1 := c.(driver.ExecerContext)
	q, ok2 := c.(driver.QueryerContext)
	if !ok1 || !ok2 {
		return nil
	}
	if _, err := ex.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 0", nil); err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status')", nil)
	if err != nil {
		return err
	}
	st := map[string]string{}
	row := make([]driver.Value, len(rows.Columns()))
	for {
		err := rows.Next(row)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rows.Close()
			return err
		}
		st[fmt.Sprintf("%s", row[0])] = fmt.Sprintf("%s", row[1])
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if st["wsrep_ready"] != "ON" || st["wsrep_cluster_status"] != "Primary" {
		return fmt.Errorf("%w (wsrep_ready=%s, wsrep_cluster_status=%s)", ErrNoQuorum,
			orNone(st["wsrep_ready"]), orNone(st["wsrep_cluster_status"]))
	}
	_, err = ex.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1", nil)
	return err
}

func orNone(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// noQuorum reports whether err says the server is outside the primary
// component.
func noQuorum(err error) bool {
	var me *mysql.MySQLError
	return errors.Is(err, ErrNoQuorum) || errors.As(err, &me) && me.Number == errWsrepNotReady
}
