package mariadbtest

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// createUser creates User, allowed in from any host with Password.
func (s *Server) createUser() error {
	return s.rootExec(
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", User, s.Password),
	)
}

// CreateDatabase creates database name (a plain identifier) and gives User
// every privilege on it.
func (s *Server) CreateDatabase(name string) error {
	return s.rootExec(
		fmt.Sprintf("CREATE DATABASE `%s`", name),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", name, User),
	)
}

// NewDatabase creates a fresh database for one test, dropped when the test
// ends, and returns its name.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", s.seq.Add(1))
	if err := s.CreateDatabase(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.rootExec("DROP DATABASE IF EXISTS `" + name + "`") })
	return name
}

// Root returns a root connection to database db, closed when the test
// ends: tests use it to look at or tamper with rows behind the code under
// test.
func (s *Server) Root(t testing.TB, db string) *sql.DB {
	t.Helper()
	conn, err := s.open("root", "", db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (s *Server) rootExec(stmts ...string) error {
	db, err := s.open("root", "", "")
	if err != nil {
		return err
	}
	defer db.Close()
	c, cancel := ctx()
	defer cancel()
	for _, q := range stmts {
		if _, err := db.ExecContext(c, q); err != nil {
			return fmt.Errorf("mariadbtest: %s: %w", q, err)
		}
	}
	return nil
}

// DSN returns a go-sql-driver DSN that logs in as User to database db.
func (s *Server) DSN(db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = User, s.Password, "tcp", s.Addr(), db
	c.Timeout = 5 * time.Second
	return c.FormatDSN()
}
