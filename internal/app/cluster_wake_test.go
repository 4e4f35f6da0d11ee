package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/mysql"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/zone"
)

// TestClusterLateCommitWakes: another node's push that commits after a
// later-numbered one the node has already seen (a push is numbered when
// its transaction starts; lock waits, retries and a stalled process
// reorder commits) still wakes the node's workers through the change
// poll: its builtin serves the zone within a few polls, not at the
// workers' idle poll (30 s). The other node is a store handle whose clock
// runs ahead, which numbers its push above the one stored after it.
func TestClusterLateCommitWakes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB and a dadns node")
	}
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	httpPort, dnsPort := freePorts(t)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort)
	appKeys := fmt.Sprintf("  node_id: w1\ndatastore:\n  type: mysql\n  dsn: %q\n", dsn)
	n := startNodeApp(t, t.TempDir(), httpPort, backends, appKeys, "http", daClient())
	logOnFailure(t, n, "w1")
	dnsAddr := fmt.Sprintf("127.0.0.1:%d", dnsPort)

	other := func(skew time.Duration) *mysql.Store {
		s, err := mysql.Open(ctx, dsn, mysql.Options{Now: func() time.Time { return time.Now().Add(skew) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	put := func(s *mysql.Store, name string) {
		t.Helper()
		z, err := zone.Parse(zone.Name(name), []byte(e2eZone(name, 7)), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, store.Zone{Name: name, Canonical: z.Text(), Serial: 7}); err != nil {
			t.Fatal(err)
		}
	}
	served := func(name string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for soaServed(dnsAddr, name, 7) != nil {
			if time.Now().After(deadline) {
				t.Fatalf("%s not served %v after it was stored (the change poll missed it)", name, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ahead, behind := other(5*time.Second), other(0)
	put(ahead, "numbered-later.example")
	served("numbered-later.example", 10*time.Second)
	time.Sleep(2 * changePoll) // the node's poll has seen the higher number
	put(behind, "committed-later.example")
	served("committed-later.example", 10*time.Second)
}
