package app

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/galeratest"
	"github.com/dadns/dadns/internal/testutil/slowproxy"
)

// galeraEnv is a 3-node Galera cluster holding dadns's state (database
// stateDB) and the coredns_mysql database every dadns node shares (dnsDB,
// reached through Galera node 2, which the tests never kill).
type galeraEnv struct {
	g              *galeratest.Cluster
	stateDB, dnsDB string
	coredns        *mysqlDC
	lease          int // claim_lease_seconds
}

func startGaleraEnv(t *testing.T) *galeraEnv {
	g := galeratest.Start(t, 3)
	e := &galeraEnv{g: g, stateDB: g.NewDatabase(t), dnsDB: g.NewDatabase(t), lease: 5}
	e.coredns = &mysqlDC{name: "coredns", root: g.Root(t, 2, e.dnsDB)}
	return e
}

// clusterNode is one dadns node of the cluster tests.
type clusterNode struct {
	*node
	id                string
	dir               string
	httpPort, dnsPort int
	first             int // the Galera node its store tries first
	// slow, when set, sits between the node and the shared database.
	slow *slowproxy.Proxy
}

// start runs (or restarts) the node: a builtin backend (local) and the
// shared coredns_mysql backend, its state in Galera through an address
// list that starts at Galera node first.
func (e *galeraEnv) start(t *testing.T, cn *clusterNode) {
	t.Helper()
	var hosts []string
	for k := range e.g.Nodes {
		hosts = append(hosts, e.g.Nodes[(cn.first+k)%len(e.g.Nodes)].Addr())
	}
	dbPort := e.g.Nodes[2].Port
	if cn.slow != nil {
		_, p, _ := strings.Cut(cn.slow.Addr(), "127.0.0.1:")
		dbPort, _ = strconv.Atoi(p)
	}
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", cn.dnsPort) +
		fmt.Sprintf("    coredns:\n      type: coredns_mysql\n      host: 127.0.0.1\n      port: %d\n      database: %s\n"+
			"      username: %s\n      password: %s\n      timeout_seconds: 20\n",
			dbPort, e.dnsDB, galeratest.User, e.g.Password)
	appKeys := fmt.Sprintf("  node_id: %s\ndatastore:\n  type: mysql\n  host: %q\n  name: %s\n  user: %s\n  pass: %s\n  claim_lease_seconds: %d\n",
		cn.id, strings.Join(hosts, ","), e.stateDB, galeratest.User, e.g.Password, e.lease)
	cn.node = startNodeApp(t, cn.dir, cn.httpPort, backends, appKeys, "http", daClient())
	cn.node.dnsAddr = fmt.Sprintf("127.0.0.1:%d", cn.dnsPort)
	logOnFailure(t, cn.node, cn.id)
}

func (e *galeraEnv) newNode(t *testing.T, id string, first int, slow bool) *clusterNode {
	cn := &clusterNode{id: id, dir: t.TempDir(), first: first}
	if slow {
		cn.slow = slowproxy.Start(t, e.g.Nodes[2].Addr(), 0)
	}
	cn.httpPort, cn.dnsPort = freePorts(t)
	e.start(t, cn)
	return cn
}

// appliedTotal reads the node's count of zone changes applied to backend.
func appliedTotal(t *testing.T, n *node, backend string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", n.httpURL+"/metrics", nil)
	req.SetBasicAuth("da", e2ePass)
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	prefix := `dadns_backend_zones_applied_total{backend="` + backend + `"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int(f)
		}
	}
	return 0
}

// sharedApplies waits until the two nodes' counts of shared-backend
// applies reach want (a worker counts a batch just after recording it),
// then reads them once more a moment later, so that a double apply would
// show as a sum above want.
func sharedApplies(t *testing.T, a, b *node, want int) (int, int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for appliedTotal(t, a, "coredns")+appliedTotal(t, b, "coredns") < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	return appliedTotal(t, a, "coredns"), appliedTotal(t, b, "coredns")
}

// pushSpread sends one rawsave per zone, alternating between nodes, from
// several clients, retrying a refused or unanswered push up to tries times
// on the next node. It returns how many first attempts failed.
func pushSpread(t *testing.T, nodes []*clusterNode, names []string, serial uint32, tries int) int {
	t.Helper()
	var next, firstFails atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			c := daClient()
			for i := int(next.Add(1)) - 1; i < len(names); i = int(next.Add(1)) - 1 {
				op := &daOp{zone: names[i], serial: serial, body: zoneBody(names[i], serial)}
				for try := range tries {
					err := op.send(c, nodes[(i+try)%len(nodes)].httpURL)
					if op.out == acked {
						break
					}
					if try == 0 {
						firstFails.Add(1)
					}
					if try == tries-1 {
						errs <- fmt.Errorf("push %s never acknowledged: %v", names[i], err)
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return int(firstFails.Load())
}

func zoneNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d.example", prefix, i)
	}
	return out
}

// waitServed waits until every node's builtin serves each zone at its
// serial and the shared coredns database holds exactly want.
func (e *galeraEnv) waitServed(t *testing.T, nodes []*clusterNode, want map[string]uint32) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		db := e.g.Root(t, 2, e.stateDB)
		rows, err := db.Query("SELECT backend, zone, state, desired_version, applied_version, claimed_by, last_error FROM backend_state WHERE zone IN ('s0.example', 's1.example', 's6.example') OR state != 'applied' LIMIT 40")
		if err != nil {
			t.Log(err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var b, z, st, cb, le string
			var dv, av int64
			_ = rows.Scan(&b, &z, &st, &dv, &av, &cb, &le)
			t.Logf("state row: %s %s %s desired %d applied %d claimed %q err %q", b, z, st, dv, av, cb, le)
		}
		// A zone without a state row for some backend instance is never
		// applied there (until a drift repair): list those pairs.
		gaps, err := db.Query(`SELECT b.name, z.name FROM zones z JOIN backends b
			LEFT JOIN backend_state s ON s.backend = b.name AND s.zone = z.name WHERE s.zone IS NULL LIMIT 40`)
		if err != nil {
			t.Log(err)
			return
		}
		defer gaps.Close()
		for gaps.Next() {
			var b, z string
			_ = gaps.Scan(&b, &z)
			t.Logf("no state row: backend %s, zone %s", b, z)
		}
	})
	for _, cn := range nodes {
		for name, serial := range want {
			waitSOASerial(t, cn.dnsAddr, name, serial)
		}
	}
	w := make(map[string]int, len(want))
	for name, serial := range want {
		w[name] = int(serial)
	}
	e.coredns.waitConverged(t, w, time.Duration(e.lease)*time.Second+60*time.Second)
}

// TestGaleraCluster runs two dadns nodes on a 3-node Galera cluster, each
// with its own builtin backend and one shared coredns_mysql database:
// pushes spread over both nodes are served by both builtins and written
// once to the shared database; a dadns node kill -9'd mid-burst loses no
// acknowledged push and the other finishes its shared work once the claim
// lease expires; with a Galera node killed pushes go on through the
// others; the same zone pushed to both nodes at once ends, on every
// backend, in the state of a last acknowledged push.
func TestGaleraCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Galera cluster and two dadns nodes")
	}
	e := startGaleraEnv(t)
	n1, n2 := e.newNode(t, "n1", 0, true), e.newNode(t, "n2", 1, false)
	nodes := []*clusterNode{n1, n2}
	want := map[string]uint32{}

	// Spread: each zone once, through alternating nodes.
	spread := zoneNames("s", 60)
	pushSpread(t, nodes, spread, 1, 1)
	for _, name := range spread {
		want[name] = 1
	}
	e.waitServed(t, nodes, want)
	a, b := sharedApplies(t, n1.node, n2.node, len(spread))
	if a+b != len(spread) {
		t.Fatalf("shared backend applied %d+%d zone changes for %d pushes: some zone was written by both nodes", a, b, len(spread))
	}
	t.Logf("spread: %d zones; coredns written by n1 %d, n2 %d; builtin n1 %d, n2 %d", len(spread), a, b,
		appliedTotal(t, n1.node, "builtin"), appliedTotal(t, n2.node, "builtin"))

	killed := killMidBurst(t, e, nodes, want)
	t.Logf("kill -9 of n1 mid-burst: %s", killed)

	n1.slow.SetDelay(0)
	e.start(t, n1) // back with the same node id; its builtin is refilled
	e.waitServed(t, nodes, want)

	e.g.Nodes[0].Kill() // n1's first database node
	galera := zoneNames("g", 40)
	fails := pushSpread(t, nodes, galera, 3, 4)
	for _, name := range galera {
		want[name] = 3
	}
	e.waitServed(t, nodes, want)
	t.Logf("galera node 0 killed: %d pushes, %d first attempts refused, all acknowledged and served", len(galera), fails)

	raced := raceSameZones(t, e, nodes, want)
	t.Logf("same zone pushed to both nodes at once: %s", raced)
}

// killMidBurst pushes new versions through both nodes and kill -9s n1 in
// the middle: every acknowledged push is stored, and n2 alone brings both
// its builtin and the shared database to the stored state (taking over n1's
// claims once they expire). want is updated to the stored state.
func killMidBurst(t *testing.T, e *galeraEnv, nodes []*clusterNode, want map[string]uint32) string {
	t.Helper()
	n1, n2 := nodes[0], nodes[1]
	names := zoneNames("s", 60)
	names = append(names, zoneNames("k", 140)...)
	var next, acks atomic.Int64
	var mu sync.Mutex
	hist := map[string]*daOp{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c := daClient()
			for i := int(next.Add(1)) - 1; i < len(names); i = int(next.Add(1)) - 1 {
				op := &daOp{zone: names[i], serial: 2, body: zoneBody(names[i], 2)}
				target := nodes[i%2]
				_ = op.send(c, target.httpURL)
				if op.out == acked {
					acks.Add(1)
				}
				mu.Lock()
				hist[op.zone] = op
				mu.Unlock()
			}
		})
	}
	// n1's link to the shared database is slow: it holds its claims for
	// seconds, and dies holding some.
	n1.slow.SetDelay(300 * time.Millisecond)
	deadline := time.Now().Add(60 * time.Second)
	for acks.Load() < 50 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// Kill it once it holds a claim (its claims reach the database over
	// the slow link, so under load that can take a moment after the 50th
	// acknowledgement).
	state := e.g.Root(t, 2, e.stateDB)
	for time.Now().Before(deadline) {
		var held int
		if err := state.QueryRow(`SELECT count(*) FROM backend_state WHERE backend = 'coredns' AND claimed_by = 'n1'`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	n1.kill()
	var orphaned int
	if err := state.QueryRow(`SELECT count(*) FROM backend_state WHERE backend = 'coredns' AND claimed_by = 'n1'`).Scan(&orphaned); err != nil {
		t.Fatal(err)
	}
	if orphaned == 0 {
		t.Fatal("n1 died holding no claim on the shared backend: the takeover is not exercised")
	}
	wg.Wait()

	live := liveZones(t, daClient(), n2.httpURL)
	lost, unanswered := 0, 0
	for name, op := range hist {
		switch op.out {
		case acked:
			if live[name] != 2 {
				lost++
				t.Errorf("%s: push acknowledged, store has serial %d", name, live[name])
			}
		case unknown:
			unanswered++
		}
	}
	if lost > 0 {
		t.FailNow()
	}
	clear(want)
	for name, serial := range live {
		want[name] = serial
	}
	start := time.Now()
	e.waitServed(t, []*clusterNode{n2}, want)
	// Zones n1 wrote before dying serve already; n2 records them once
	// their claims expired and it applied them again.
	deadline = time.Now().Add(time.Duration(e.lease)*time.Second + 30*time.Second)
	for {
		var left int
		err := state.QueryRow(`SELECT count(*) FROM backend_state WHERE backend = 'coredns' AND (claimed_by = 'n1' OR state != 'applied')`).Scan(&left)
		if err == nil && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the takeover %d shared rows are still n1's or not applied (%v)", left, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Sprintf("%d pushes, %d acknowledged (all stored), %d unanswered; n1 died holding %d claims; n2 served every stored zone, took the claims over and recorded every shared zone applied %.1fs after the burst (lease %ds)",
		len(hist), acks.Load(), unanswered, orphaned, time.Since(start).Seconds(), e.lease)
}

// raceSameZones pushes each of a few zones to both nodes at the same
// instant, round after round, with distinct serials: the final state of
// every zone, in the store and on every backend, is one a last
// acknowledged push left.
func raceSameZones(t *testing.T, e *galeraEnv, nodes []*clusterNode, want map[string]uint32) string {
	t.Helper()
	const zones, rounds = 5, 20
	names := zoneNames("r", zones)
	hist := make([][]*daOp, zones)
	serial := uint32(1000)
	for range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for z, name := range names {
			for k := range nodes {
				serial++
				op := &daOp{zone: name, serial: serial, body: zoneBody(name, serial)}
				hist[z] = append(hist[z], op)
				wg.Go(func() {
					<-start
					if err := op.send(daClient(), nodes[k].httpURL); err != nil || op.out != acked {
						t.Errorf("race push %s serial %d: %v (outcome %d)", op.zone, op.serial, err, op.out)
					}
				})
			}
		}
		close(start)
		wg.Wait()
	}
	if t.Failed() {
		t.FailNow()
	}
	live := liveZones(t, daClient(), nodes[0].httpURL)
	for z, name := range names {
		if !allowedFinal(name, hist[z])[live[name]] {
			t.Fatalf("%s ends at serial %d, which no last acknowledged push left", name, live[name])
		}
		want[name] = live[name]
	}
	e.waitServed(t, nodes, want)
	return fmt.Sprintf("%d zones x %d rounds x %d nodes = %d acknowledged pushes; final state of each is a last acknowledged push, on both builtins and the shared database",
		zones, rounds, len(nodes), zones*rounds*len(nodes))
}

// logOnFailure logs the end of node n's output when the test fails.
func logOnFailure(t *testing.T, n *node, id string) {
	t.Cleanup(func() {
		if t.Failed() {
			n.kill() // its output is complete (and no longer written) once it exited
			text := n.out.String()
			t.Logf("%s's log (end):\n%s", id, text[max(0, len(text)-6000):])
		}
	})
}
