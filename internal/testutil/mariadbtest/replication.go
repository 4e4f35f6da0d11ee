package mariadbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Replication: a primary writing a binary log with GTIDs, and replicas
// following it with MariaDB's asynchronous replication
// (MASTER_USE_GTID=slave_pos), read-only as a data centre's replica is.

const (
	replUser = "repl"
	replPass = "repl-secret-0123"
)

// StartPrimary launches a server that replicas can follow (server_id 1,
// binary log in ROW format) and stops it when the test ends.
func StartPrimary(t testing.TB) *Server {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	s, err := launch(dir, []string{"--server-id=1", "--log-bin=" + filepath.Join(dir, "data", "bin"),
		"--binlog-format=ROW", "--sync-binlog=1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.rootExec(
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", replUser, replPass),
		fmt.Sprintf("GRANT REPLICATION SLAVE ON *.* TO '%s'@'%%'", replUser),
	); err != nil {
		t.Fatal(err)
	}
	return s
}

// StartReplica launches a read-only server (server_id 2, 3, ...) that
// replicates everything primary writes from now on, and stops it when the
// test ends. Its own User has its own Password; the databases and grants
// the primary creates arrive by replication.
func StartReplica(t testing.TB, primary *Server, serverID int) *Server {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	s, err := launch(dir, []string{"--server-id=" + strconv.Itoa(serverID), "--read-only=ON",
		"--relay-log=" + filepath.Join(dir, "data", "relay"), "--slave-net-timeout=5"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.follow(primary); err != nil {
		t.Fatal(err)
	}
	return s
}

// follow points the replica at primary's current GTID position and starts
// replicating; it reconnects every second when the primary goes away.
func (s *Server) follow(primary *Server) error {
	pos, err := primary.GTIDBinlogPos()
	if err != nil {
		return err
	}
	return s.rootExec(
		fmt.Sprintf("SET GLOBAL gtid_slave_pos = '%s'", pos),
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', "+
			"MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", primary.Host, primary.Port, replUser, replPass),
		"START SLAVE",
	)
}

// GTIDBinlogPos returns the server's @@gtid_binlog_pos: the last
// transaction it wrote, per replication domain.
func (s *Server) GTIDBinlogPos() (string, error) {
	return s.rootString("SELECT @@gtid_binlog_pos")
}

// GTIDSlavePos returns a replica's @@gtid_slave_pos: the last transaction
// it applied.
func (s *Server) GTIDSlavePos() (string, error) {
	return s.rootString("SELECT @@gtid_slave_pos")
}

// WaitCaughtUp waits until the replica has applied everything the primary
// had written when it was called (MASTER_GTID_WAIT).
func (s *Server) WaitCaughtUp(ctx context.Context, primary *Server) error {
	pos, err := primary.GTIDBinlogPos()
	if err != nil {
		return err
	}
	db, err := s.open("root", "", "")
	if err != nil {
		return err
	}
	defer db.Close()
	timeout := 60.0
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d).Seconds()
	}
	var r sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, ?)", pos, timeout).Scan(&r); err != nil {
		return fmt.Errorf("mariadbtest: wait for %s: %w", pos, err)
	}
	if !r.Valid || r.Int64 != 0 {
		st, _ := s.ReplicaStatus()
		return fmt.Errorf("mariadbtest: replica did not reach %s (%s)", pos, st)
	}
	return nil
}

// ReplicaStatus summarises SHOW SLAVE STATUS: the threads' states and the
// last errors.
func (s *Server) ReplicaStatus() (string, error) {
	db, err := s.open("root", "", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	c, cancel := ctx()
	defer cancel()
	rows, err := db.QueryContext(c, "SHOW SLAVE STATUS")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return "", errors.New("mariadbtest: not a replica")
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", err
	}
	out := ""
	for i, c := range cols {
		switch c {
		case "Slave_IO_Running", "Slave_SQL_Running", "Last_IO_Error", "Last_SQL_Error", "Gtid_IO_Pos", "Seconds_Behind_Master":
			out += c + "=" + vals[i].String + " "
		}
	}
	return out, nil
}

func (s *Server) rootString(q string) (string, error) {
	db, err := s.open("root", "", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	c, cancel := ctx()
	defer cancel()
	var v sql.NullString
	if err := db.QueryRowContext(c, q).Scan(&v); err != nil {
		return "", fmt.Errorf("mariadbtest: %s: %w", q, err)
	}
	return v.String, nil
}
