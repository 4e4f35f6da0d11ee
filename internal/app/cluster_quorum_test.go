package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/galeratest"
)

// TestGaleraQuorumLost cuts Galera node 2 off the other two while two
// dadns nodes run on the cluster: "alone" knows only node 2, "listed" has
// node 2 first in its datastore.host list. While node 2 has no quorum,
// every push to alone is refused with error=1 (none acknowledged, none
// stored) and its log says why; listed moves to the other Galera nodes and
// acknowledges its pushes. Once node 2 is back, alone acknowledges pushes
// again and its builtin serves what listed took meanwhile.
func TestGaleraQuorumLost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Galera cluster and two dadns nodes")
	}
	g := galeratest.Start(t, 3)
	db := g.NewDatabase(t)
	start := func(id string, hosts ...int) *clusterNode {
		var addrs []string
		for _, h := range hosts {
			addrs = append(addrs, g.Nodes[h].Addr())
		}
		cn := &clusterNode{id: id, dir: t.TempDir()}
		cn.httpPort, cn.dnsPort = freePorts(t)
		backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", cn.dnsPort)
		appKeys := fmt.Sprintf("  node_id: %s\ndatastore:\n  type: mysql\n  host: %q\n  name: %s\n  user: %s\n  pass: %s\n",
			id, strings.Join(addrs, ","), db, galeratest.User, g.Password)
		cn.node = startNodeApp(t, cn.dir, cn.httpPort, backends, appKeys, "http", daClient())
		cn.node.dnsAddr = fmt.Sprintf("127.0.0.1:%d", cn.dnsPort)
		logOnFailure(t, cn.node, id)
		return cn
	}
	alone, listed := start("alone", 2), start("listed", 2, 0, 1)
	push := func(cn *clusterNode, name string, serial uint32) *daOp {
		op := &daOp{zone: name, serial: serial, body: zoneBody(name, serial)}
		_ = op.send(daClient(), cn.httpURL)
		return op
	}
	for _, cn := range []*clusterNode{alone, listed} {
		if op := push(cn, "before-"+cn.id+".example", 1); op.out != acked {
			t.Fatalf("push to %s before the cut: outcome %d", cn.id, op.out)
		}
	}

	if err := g.Nodes[2].Isolate(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Nodes[2].Isolate(false) })
	if err := g.Nodes[2].WaitStatus(map[string]string{"wsrep_cluster_status": "non-Primary"}, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	for i := range 5 {
		if op := push(alone, fmt.Sprintf("cut%d.example", i), 1); op.out != refused {
			t.Fatalf("push %d to alone without quorum: outcome %d, want refused (error=1)", i, op.out)
		}
	}
	refusing := time.Since(cut) / 5
	moved := zoneNames("moved", 5)
	for _, name := range moved {
		op := push(listed, name, 2)
		for try := 0; op.out != acked && try < 5; try++ {
			time.Sleep(time.Second)
			op = push(listed, name, 2)
		}
		if op.out != acked {
			t.Fatalf("push %s to listed: never acknowledged while node 2 was cut off", name)
		}
	}
	live := liveZones(t, daClient(), listed.httpURL)
	for i := range 5 {
		if _, ok := live[fmt.Sprintf("cut%d.example", i)]; ok {
			t.Fatalf("cut%d.example was refused but is stored", i)
		}
	}

	if err := g.Nodes[2].Isolate(false); err != nil {
		t.Fatal(err)
	}
	if err := g.Nodes[2].WaitStatus(map[string]string{"wsrep_cluster_status": "Primary", "wsrep_ready": "ON",
		"wsrep_local_state_comment": "Synced"}, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	op := push(alone, "after.example", 3)
	for deadline := time.Now().Add(30 * time.Second); op.out != acked && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		op = push(alone, "after.example", 3)
	}
	if op.out != acked {
		t.Fatal("alone refuses pushes after node 2 is back in the primary component")
	}
	resumed := time.Since(back)
	for _, name := range moved {
		waitSOASerial(t, alone.dnsAddr, name, 2)
	}
	waitSOASerial(t, alone.dnsAddr, "after.example", 3)
	alone.kill() // its output is complete once it exited
	if !strings.Contains(alone.out.String(), "no quorum") {
		t.Fatal("alone's log does not say the database node has no quorum")
	}
	t.Logf("node 2 cut off: 5 pushes to alone refused (about %v each), 0 stored; %d pushes to listed acknowledged through nodes 0/1; "+
		"node 2 back: alone acknowledged again after %v and its builtin serves listed's pushes",
		refusing.Round(time.Millisecond), len(moved), resumed.Round(time.Millisecond))
}
