package mariadbtest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestReplicaFollowsPrimary writes on the primary and reads on the
// replica, through a replica restart and a primary restart, and checks the
// replica refuses writes from ordinary users.
func TestReplicaFollowsPrimary(t *testing.T) {
	p := StartPrimary(t)
	r := StartReplica(t, p, 2)
	if err := p.CreateDatabase("dns"); err != nil {
		t.Fatal(err)
	}
	pdb, rdb := p.Root(t, ""), r.Root(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := pdb.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func() int {
		t.Helper()
		if err := r.WaitCaughtUp(ctx, p); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM dns.x").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec("CREATE TABLE dns.x (v INT) ENGINE=InnoDB")
	exec("INSERT INTO dns.x VALUES (1)")
	if n := count(); n != 1 {
		t.Fatalf("replica has %d rows, want 1", n)
	}
	r.Stop()
	exec("INSERT INTO dns.x VALUES (2)")
	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after the replica's restart: %d rows, want 2", n)
	}
	p.Stop()
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	exec("INSERT INTO dns.x VALUES (3)")
	if n := count(); n != 3 {
		t.Fatalf("after the primary's restart: %d rows, want 3", n)
	}
	udb, err := r.open(User, r.Password, "dns")
	if err != nil {
		t.Fatal(err)
	}
	defer udb.Close()
	if _, err := udb.ExecContext(ctx, "INSERT INTO x VALUES (9)"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write on the replica: %v, want read-only refusal", err)
	}
}
