package mysql

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/galeratest"
)

// testGaleraCausal holds back the applier of one Galera node (a table
// lock its write-sets wait for) while another node commits, then uses the
// lagging node: a transaction begun there must see what the cluster had
// committed before it began. With wsrep_sync_wait=1 the server waits at
// START TRANSACTION (checked on MariaDB 10.11: with wsrep_sync_wait=0 the
// write case below fails); this guards that every store transaction is
// such a causal read.
//
// Write: a backend registered through node 1 while node 0 lags, then a
// push through node 0 must make the zone due for that backend (its
// INSERT ... SELECT from backends must not read node 0's stale table).
// Read: a push through node 0 while node 1 lags is counted by a
// transaction read through node 1 (as the dispatcher's Due reads).
func testGaleraCausal(t *testing.T, c *galeratest.Cluster, open func(testing.TB, string, func() time.Time) store.Store) {
	ctx := context.Background()
	db := c.NewDatabase(t)
	a, b := open(t, c.DSN(0, db), time.Now), open(t, c.DSN(1, db), time.Now)

	release := holdApplier(t, c.Root(t, 0, db), "backends")
	if err := b.Forget(ctx, []string{"late@n2"}); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(time.Second); release() }()
	if _, err := a.Put(ctx, store.Zone{Name: "lagging.example", Canonical: "text"}); err != nil {
		t.Fatal(err)
	}
	release()
	check := c.Root(t, 2, db)
	if _, err := check.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := check.QueryRowContext(ctx, `SELECT count(*) FROM backend_state
		WHERE backend = 'late@n2' AND zone = 'lagging.example'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("a push through a node that had not applied a backend's registration left the zone without a row for it (%d rows)", rows)
	}

	release = holdApplier(t, c.Root(t, 1, db), "zones")
	if _, err := a.Put(ctx, store.Zone{Name: "second.example", Canonical: "text"}); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(time.Second); release() }()
	applies, _, err := b.Pending(ctx, "late@n2")
	release()
	if err != nil {
		t.Fatal(err)
	}
	if applies != 2 {
		t.Fatalf("a transaction read through a lagging node counts %d zones due, want 2: it missed a committed push", applies)
	}
}

// holdApplier locks table for reading on a dedicated connection of a
// Galera node: that node applies no write-set touching the table (and,
// commits being ordered, none after it) until release is called.
func holdApplier(t *testing.T, root *sql.DB, table string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := root.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "LOCK TABLES "+table+" READ"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, _ = conn.ExecContext(ctx, "UNLOCK TABLES")
			_ = conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}
