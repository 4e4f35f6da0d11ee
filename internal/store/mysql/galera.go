package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// errCommitLost reports a COMMIT that returned success on Galera although
// the transaction replicated nothing: the node had already rolled it back
// (a replicated transaction that needed its row locks aborted it, "BF
// abort"). It is run again like a 1213.
var errCommitLost = errors.New("the Galera node rolled the transaction back although COMMIT succeeded")

// Seen on MariaDB 10.11 with Galera 4 before statements were sent as text
// queries (see prepare): the abort's error, reported on the client's next
// command, was lost when that command was an unanswered COM_STMT_CLOSE,
// and the statements after it ran outside the transaction. Rows affected
// before COMMIT, and a COMMIT without error, were then no proof that the
// changes were stored. The checks below stay as a second line: Claim and
// AcquireLease read back what they took (claimedBack, leaseHeld), and
// pushes and deletes compare the session's last written GTID around the
// transaction (tryWriteChecked).

// tryWriteChecked is tryWrite on one connection whose last written GTID
// must move across the transaction: fn always changes rows, so a
// successful COMMIT that wrote no GTID stored nothing.
func (s *Store) tryWriteChecked(ctx context.Context, fn func(tx *sql.Tx) error) (committing bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	before, err := lastWritten(ctx, conn)
	if err != nil {
		return false, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return true, err
	}
	after, err := lastWritten(ctx, conn)
	if err != nil {
		// Committed, outcome unknown: reported, not retried.
		return true, fmt.Errorf("after COMMIT: %w", err)
	}
	if after == before {
		s.lost.Add(1)
		s.lostWrites.Add(1)
		return false, errCommitLost
	}
	return true, nil
}

// lastWritten is the GTID of the last transaction this session replicated.
func lastWritten(ctx context.Context, conn *sql.Conn) (string, error) {
	var gtid sql.NullString
	err := conn.QueryRowContext(ctx, "SELECT WSREP_LAST_WRITTEN_GTID()").Scan(&gtid)
	return gtid.String, err
}

// LostCommits counts the transactions found rolled back after a COMMIT that
// reported success (pushes and deletes run again, claims and leases not
// held), since Open; writes is the part that were pushes and deletes.
func (s *Store) LostCommits() (all, writes int64) { return s.lost.Load(), s.lostWrites.Load() }
