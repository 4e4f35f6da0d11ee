package mariadbtest

import (
	"context"
	"testing"
)

// TestUserLogsInAfterRestart checks the test user authenticates with its
// password, and that a stopped server comes back on the same port with its
// data.
func TestUserLogsInAfterRestart(t *testing.T) {
	s := Start(t)
	name := s.NewDatabase(t)
	db, err := s.open(User, s.Password, name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE x (v INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO x VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if bad, err := s.open(User, "wrong", name); err == nil {
		if bad.Ping() == nil {
			t.Fatal("wrong password accepted")
		}
		bad.Close()
	}
	s.Stop()
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("ping succeeded while the server is stopped")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.QueryRowContext(ctx, "SELECT v FROM x").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: %d, %v", v, err)
	}
}
