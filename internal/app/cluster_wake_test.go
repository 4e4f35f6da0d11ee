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
	w := startWakeNode(t)
	ahead, behind := w.other(5*time.Second), w.other(0)
	w.put(ahead, "numbered-later.example")
	w.served("numbered-later.example", 10*time.Second)
	time.Sleep(2 * changePoll) // the node's poll has seen the higher number
	w.put(behind, "committed-later.example")
	w.served("committed-later.example", 10*time.Second)
}

// TestClusterRacedRowFilled: a zone stored without a state row for the
// node's builtin (what a push on another Galera node leaves when it
// certifies alongside the builtin's registration) is filled in by the
// node's change poll and served within a few seconds, though the node
// takes no push and its worker would sleep until its idle poll (30 s).
func TestClusterRacedRowFilled(t *testing.T) {
	w := startWakeNode(t)
	name := "raced.example"
	z, err := zone.Parse(zone.Name(name), []byte(e2eZone(name, 7)), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// One statement: the zone row alone, as the raced push committed it.
	now := time.Now().UnixNano()
	if _, err := w.other(0).DB().Exec(`INSERT INTO zones (name, version, seq, hash, serial, created, updated, canonical, original)
		VALUES (?, 1, ?, ?, 7, ?, ?, ?, ?)`, name, now, store.HashText(z.Text()), now, now, z.Text(), z.Text()); err != nil {
		t.Fatal(err)
	}
	w.served(name, 10*time.Second)
}

// wakeNode is one dadns node (node id w1, a builtin backend) on a fresh
// MariaDB database, and what the wake tests do around it.
type wakeNode struct {
	t       *testing.T
	dsn     string
	dnsAddr string
}

func startWakeNode(t *testing.T) *wakeNode {
	if testing.Short() {
		t.Skip("starts MariaDB and a dadns node")
	}
	srv := mariadbtest.Start(t)
	w := &wakeNode{t: t, dsn: srv.DSN(srv.NewDatabase(t))}
	httpPort, dnsPort := freePorts(t)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort)
	appKeys := fmt.Sprintf("  node_id: w1\ndatastore:\n  type: mysql\n  dsn: %q\n", w.dsn)
	n := startNodeApp(t, t.TempDir(), httpPort, backends, appKeys, "http", daClient())
	logOnFailure(t, n, "w1")
	w.dnsAddr = fmt.Sprintf("127.0.0.1:%d", dnsPort)
	return w
}

// other opens another node's handle on the database, its clock skewed.
func (w *wakeNode) other(skew time.Duration) *mysql.Store {
	s, err := mysql.Open(context.Background(), w.dsn, mysql.Options{Now: func() time.Time { return time.Now().Add(skew) }})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = s.Close() })
	return s
}

// put stores zone name (serial 7) through s.
func (w *wakeNode) put(s *mysql.Store, name string) {
	w.t.Helper()
	z, err := zone.Parse(zone.Name(name), []byte(e2eZone(name, 7)), zone.Limits{})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), store.Zone{Name: name, Canonical: z.Text(), Serial: 7}); err != nil {
		w.t.Fatal(err)
	}
}

// served waits until the node's builtin serves name at serial 7.
func (w *wakeNode) served(name string, within time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for soaServed(w.dnsAddr, name, 7) != nil {
		if time.Now().After(deadline) {
			w.t.Fatalf("%s not served %v after it was stored", name, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
