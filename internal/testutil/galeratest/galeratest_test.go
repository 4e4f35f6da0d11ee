package galeratest

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestClusterReplicatesAndSurvivesANode writes through one node, reads
// through another, kills a node and writes through the survivors.
func TestClusterReplicatesAndSurvivesANode(t *testing.T) {
	c := Start(t, 3)
	db := c.NewDatabase(t)
	ctx := context.Background()
	conns := make([]*sql.DB, 3)
	for i := range conns {
		// Causal reads and writes: a node applies another's DDL
		// asynchronously, and the INSERT below must see the table.
		cfg, err := mysql.ParseDSN(c.DSN(i, db))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Params = map[string]string{"wsrep_sync_wait": "7"}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = sql.OpenDB(conn)
		defer conns[i].Close()
	}
	if _, err := conns[0].ExecContext(ctx, "CREATE TABLE x (k INT PRIMARY KEY, v INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conns[1].ExecContext(ctx, "INSERT INTO x VALUES (1, 42)"); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := conns[2].QueryRowContext(ctx, "SELECT v FROM x WHERE k = 1").Scan(&v); err != nil || v != 42 {
		t.Fatalf("node 2 reads %d, %v", v, err)
	}
	c.Nodes[0].Kill()
	if err := c.WaitSize(2, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := conns[2].ExecContext(ctx, "INSERT INTO x VALUES (2, 43)"); err != nil {
		t.Fatalf("write after a node died: %v", err)
	}
	if err := conns[1].QueryRowContext(ctx, "SELECT count(*) FROM x").Scan(&v); err != nil || v != 2 {
		t.Fatalf("node 1 counts %d, %v", v, err)
	}
}

// TestIsolate cuts one node off: it loses quorum and refuses queries
// (1047), the other two keep writing; joined again, it has their writes.
func TestIsolate(t *testing.T) {
	c := Start(t, 3)
	db := c.NewDatabase(t)
	ctx := context.Background()
	alone, other := c.Root(t, 2, db), c.Root(t, 0, db)
	if _, err := other.ExecContext(ctx, "CREATE TABLE x (k INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	var n int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := alone.QueryRowContext(ctx, "SELECT count(*) FROM x").Scan(&n)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2 never got the table: %v", err)
		}
	}
	if err := c.Nodes[2].Isolate(true); err != nil {
		t.Fatal(err)
	}
	if err := c.Nodes[2].WaitStatus(map[string]string{"wsrep_cluster_status": "non-Primary"}, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := alone.ExecContext(ctx, "INSERT INTO x VALUES (1)"); err == nil || !strings.Contains(err.Error(), "1047") {
		t.Fatalf("write on the isolated node: %v, want error 1047", err)
	}
	if err := c.WaitSize(2, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, "INSERT INTO x VALUES (2)"); err != nil {
		t.Fatalf("write on the majority: %v", err)
	}
	if err := c.Nodes[2].Isolate(false); err != nil {
		t.Fatal(err)
	}
	if err := c.Nodes[2].WaitStatus(map[string]string{"wsrep_cluster_status": "Primary", "wsrep_ready": "ON",
		"wsrep_local_state_comment": "Synced"}, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := alone.QueryRowContext(ctx, "SELECT count(*) FROM x WHERE k = 2").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rejoined node reads %d, %v", n, err)
	}
}
