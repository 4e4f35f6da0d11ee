package mysql

import (
	"database/sql/driver"
	"errors"
	"net"

	"github.com/go-sql-driver/mysql"
)

// Server errors after which the whole transaction is run again: the server
// rolled it back and nothing of it is stored.
const (
	errLockWaitTimeout = 1205 // ER_LOCK_WAIT_TIMEOUT (statement rolled back; we roll back the rest)
	errDeadlock        = 1213 // ER_LOCK_DEADLOCK; also Galera's certification failure
	errWsrepNotReady   = 1047 // Galera node not in the primary component (WSREP has not yet prepared node)
	errMariaDBIdleTx   = 4031 // MariaDB: the server closed an idle transaction
)

// retryable reports whether a failed transaction may be run again. A lost
// connection is retried only before COMMIT: once COMMIT was sent its outcome
// is unknown, and a push must not be reported failed when it may be stored,
// nor stored twice silently.
func retryable(err error, committing bool) bool {
	if errors.Is(err, ErrNoQuorum) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case errDeadlock, errLockWaitTimeout, errWsrepNotReady, errMariaDBIdleTx:
			return true
		}
		return false
	}
	if committing {
		return false
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.As(err, &ne)
}
