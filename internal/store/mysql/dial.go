package mysql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// FailoverNet is the DSN network name for an address list: with
// "user:pass@failover(db1:3306,db2:3306,db3:3306)/dadns" each new
// connection goes to the first address that answers, starting with the one
// that answered last, so the pool moves to a surviving Galera node when
// its node dies and stays there.
const FailoverNet = "failover"

// lastGood indexes the address that answered last, per address list.
var lastGood atomic.Int64

func init() {
	// The driver keeps dialers in a global registry; registering ours
	// once, by name, is the only way to give it one.
	mysql.RegisterDialContext(FailoverNet, dialFailover)
}

// dialFailover connects to the first reachable address of the
// comma-separated list addrs.
func dialFailover(ctx context.Context, addrs string) (net.Conn, error) {
	list := strings.Split(addrs, ",")
	start := int(lastGood.Load()) % len(list)
	var errs []error
	for i := range list {
		n := (start + i) % len(list)
		addr := strings.TrimSpace(list[n])
		d := net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			lastGood.Store(int64(n))
			return c, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return nil, errors.Join(errs...)
}
