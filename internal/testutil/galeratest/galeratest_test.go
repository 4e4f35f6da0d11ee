package galeratest

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestClusterReplicatesAndSurvivesANode writes through one node, reads
// through another, kills a node and writes through the survivors.
func TestClusterReplicatesAndSurvivesANode(t *testing.T) {
	c := Start(t, 3)
	db := c.NewDatabase(t)
	ctx := context.Background()
	conns := make([]*sql.DB, 3)
	for i := range conns {
		var err error
		if conns[i], err = sql.Open("mysql", c.DSN(i, db)); err != nil {
			t.Fatal(err)
		}
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
