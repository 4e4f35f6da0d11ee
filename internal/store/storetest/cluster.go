package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/node"
)

// SharedOpener opens a fresh, empty database on the clock now and returns a
// function that opens another handle on it, as another dadns node would.
// Every handle implements store.Cluster and is closed when t ends.
type SharedOpener func(t testing.TB, now func() time.Time) func() store.Store

// RunCluster runs the cases of several nodes sharing one database; the
// cases named in known are skipped with that reason (a known defect of one
// implementation, said in the test output rather than hidden).
func RunCluster(t *testing.T, open SharedOpener, known ...string) {
	cases := []struct {
		name string
		fn   func(t *testing.T, open SharedOpener)
	}{
		{"ClaimsAreExclusiveUntilExpiry", testClaimsExclusive},
		{"ClaimOutlivesNewerPush", testClaimOutlivesPush},
		{"ConcurrentClaimsNeverShareAZone", testConcurrentClaims},
		{"LocalBackendsPerNode", testLocalPerNode},
		{"Lease", testLease},
		{"Heartbeats", testHeartbeats},
		{"ForgetNode", testForgetNode},
		{"ConcurrentPushesOfOneZone", testConcurrentSameZone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i+1 < len(known); i += 2 {
				if known[i] == tc.name {
					t.Skip("known defect: " + known[i+1])
				}
			}
			tc.fn(t, open)
		})
	}
}

func twoNodes(t *testing.T, open SharedOpener) (a, b store.Store, ca, cb store.Cluster, clock *fakeClock) {
	clock = newClock()
	another := open(t, clock.Now)
	a, b = another(), another()
	return a, b, a.(store.Cluster), b.(store.Cluster), clock
}

func claim(t *testing.T, c store.Cluster, node string, limit int) []store.Work {
	t.Helper()
	w, _, err := c.Claim(context.Background(), "sql", node, time.Minute, limit)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func testClaimsExclusive(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	a, _, ca, cb, clock := twoNodes(t, open)
	for i := range 3 {
		mustPut(t, a, fmt.Sprintf("z%d.example", i), 1)
	}
	if w := claim(t, ca, "n1", 2); len(w) != 2 {
		t.Fatalf("n1 claimed %v", dueNames(w))
	}
	if w := claim(t, cb, "n2", 10); !equalStrings(dueNames(w), []string{"z2.example@1"}) {
		t.Fatalf("n2 claimed %v; want only the zone n1 left", dueNames(w))
	}
	if w := claim(t, cb, "n2", 10); len(w) != 1 {
		t.Fatalf("n2 lost its own claim: %v", dueNames(w))
	}
	// n1 applies one zone and dies holding the other.
	if err := a.Applied(ctx, "sql", []store.Applied{{Name: "z0.example", Version: 1, Hash: "h"}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	w, next, err := cb.Claim(ctx, "sql", "n2", time.Minute, 10)
	if err != nil || !equalStrings(dueNames(w), []string{"z2.example@1"}) {
		t.Fatalf("n2 took an unexpired claim: %v, %v", dueNames(w), err)
	}
	// n2 is told when n1's claim on z1 expires, to look again then.
	if want := clock.Now().Add(30 * time.Second); next.Before(want) || next.After(want.Add(time.Millisecond)) {
		t.Fatalf("next = %v, want n1's claim expiry %v", next, want)
	}
	clock.Advance(time.Minute)
	if w := claim(t, cb, "n2", 10); !equalStrings(dueNames(w), []string{"z1.example@1", "z2.example@1"}) {
		t.Fatalf("after expiry n2 claimed %v", dueNames(w))
	}
}

func testClaimOutlivesPush(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	a, b, ca, cb, _ := twoNodes(t, open)
	mustPut(t, a, "example.com", 1)
	if w := claim(t, ca, "n1", 10); len(w) != 1 {
		t.Fatalf("n1 claimed %v", dueNames(w))
	}
	v2 := mustPut(t, b, "example.com", 2)
	// n1 is still writing version 1 to the shared database: n2 must wait.
	if w := claim(t, cb, "n2", 10); len(w) != 0 {
		t.Fatalf("n2 claimed %v while n1 applies", dueNames(w))
	}
	if err := a.Applied(ctx, "sql", []store.Applied{{Name: "example.com", Version: 1, Hash: "h1"}}); err != nil {
		t.Fatal(err)
	}
	if w := claim(t, cb, "n2", 10); !equalStrings(dueNames(w), []string{fmt.Sprintf("example.com@%d", v2.Version)}) {
		t.Fatalf("after n1 recorded, n2 claimed %v", dueNames(w))
	}
}

// testConcurrentClaims runs eight nodes (on two handles) as workers of one
// shared backend: every zone is handed out exactly once.
func testConcurrentClaims(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	a, b, ca, cb, _ := twoNodes(t, open)
	const zones = 60
	for i := range zones {
		mustPut(t, a, fmt.Sprintf("c%d.example", i), 1)
	}
	var mu sync.Mutex
	owner := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		st, c, n := a, ca, fmt.Sprintf("n%d", i)
		if i%2 == 1 {
			st, c = b, cb
		}
		wg.Go(func() {
			for range 30 {
				w, _, err := c.Claim(ctx, "sql", n, time.Minute, 3)
				if err != nil {
					report(errs, err)
					return
				}
				var done []store.Applied
				mu.Lock()
				for _, x := range w {
					if prev, ok := owner[x.Zone.Name]; ok {
						report(errs, fmt.Errorf("%s handed to %s and %s", x.Zone.Name, prev, n))
					}
					owner[x.Zone.Name] = n
					done = append(done, store.Applied{Name: x.Zone.Name, Version: x.Zone.Version, Hash: x.Zone.Hash})
				}
				mu.Unlock()
				if err := st.Applied(ctx, "sql", done); err != nil {
					report(errs, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(owner) != zones {
		t.Fatalf("%d of %d zones handed out", len(owner), zones)
	}
}

func testLocalPerNode(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	a, b, ca, cb, _ := twoNodes(t, open)
	shared := func(n string) bool { return n == "sql" }
	na := node.Bind(a, ca, node.Options{ID: "n1", Shared: shared})
	nb := node.Bind(b, cb, node.Options{ID: "n2", Shared: shared})
	mustPut(t, na, "example.com", 1)
	for _, s := range []*node.Store{na, nb} {
		if err := s.Forget(ctx, []string{"builtin", "sql"}); err != nil {
			t.Fatal(err)
		}
	}
	applyAll(t, na, "builtin")
	if w, _ := mustDue(t, nb, "builtin", 10); len(w) != 1 {
		t.Fatalf("n2's builtin due = %v; n1's apply must not count for it", dueNames(w))
	}
	if w, _ := mustDue(t, na, "sql", 10); len(w) != 1 {
		t.Fatalf("n1 sql due = %v", dueNames(w))
	}
	if w, _ := mustDue(t, nb, "sql", 10); len(w) != 0 {
		t.Fatalf("n2 got shared work n1 holds: %v", dueNames(w))
	}
	// n1 restarts without its builtin: n2's state is untouched.
	if err := na.Forget(ctx, []string{"sql"}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, st := range mustStates(t, a, "example.com") {
		keys = append(keys, st.Backend)
	}
	if !equalStrings(keys, []string{"builtin@n2", "sql"}) {
		t.Fatalf("state keys after n1's Forget = %v", keys)
	}
	if sum, err := nb.Summary(ctx, "builtin"); err != nil || sum.Behind != 1 || sum.Backend != "builtin" {
		t.Fatalf("n2 builtin summary = %+v, %v", sum, err)
	}
	var live []string
	if err := nb.EachLive(ctx, func(z store.Zone) error { live = append(live, z.Name); return nil }); err != nil ||
		!equalStrings(live, []string{"example.com"}) {
		t.Fatalf("EachLive through a node = %v, %v", live, err)
	}
}

func mustStates(t *testing.T, s store.Store, zone string) []store.BackendState {
	t.Helper()
	st, err := s.BackendStates(context.Background(), zone)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func testLease(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	_, _, ca, cb, clock := twoNodes(t, open)
	take := func(c store.Cluster, who string) bool {
		t.Helper()
		ok, err := c.AcquireLease(ctx, "reconcile", who, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take(ca, "n1") || take(cb, "n2") || !take(ca, "n1") {
		t.Fatal("first holder must get and renew the lease, the other must not")
	}
	clock.Advance(2 * time.Minute)
	if !take(cb, "n2") || take(ca, "n1") {
		t.Fatal("after expiry the lease must pass to n2")
	}
}

func testHeartbeats(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	a, _, ca, cb, clock := twoNodes(t, open)
	start := clock.Now()
	if err := ca.Heartbeat(ctx, store.Node{ID: "n1", Version: "v1", Started: start}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := cb.Heartbeat(ctx, store.Node{ID: "n2", Version: "v2", Started: start}); err != nil {
		t.Fatal(err)
	}
	nodes, err := ca.Nodes(ctx)
	if err != nil || len(nodes) != 2 {
		t.Fatalf("Nodes = %+v, %v", nodes, err)
	}
	now := clock.Now()
	if nodes[0].ID != "n1" || nodes[0].Alive(now, 30*time.Second) || !nodes[1].Alive(now, 30*time.Second) ||
		nodes[1].Version != "v2" || !nodes[0].LastSeen.Equal(start) {
		t.Fatalf("nodes = %+v", nodes)
	}
	mark, changed, err := cb.Changes(ctx, store.ChangeMark{})
	if err != nil || !changed {
		t.Fatalf("first Changes = %v, %v; want true (nothing to compare with)", changed, err)
	}
	if mark, changed, err = cb.Changes(ctx, mark); err != nil || changed {
		t.Fatalf("Changes with no push since = %v, %v", changed, err)
	}
	mustPut(t, a, "changed.example", 1)
	if mark, changed, err = cb.Changes(ctx, mark); err != nil || !changed {
		t.Fatalf("Changes after another node's push = %v, %v: the push not seen", changed, err)
	}
	if _, changed, err = cb.Changes(ctx, mark); err != nil || changed {
		t.Fatalf("Changes once more = %v, %v: a change reported twice", changed, err)
	}
	if _, err := ca.ForgetNode(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if nodes, _ := cb.Nodes(ctx); len(nodes) != 1 || nodes[0].ID != "n2" {
		t.Fatalf("after ForgetNode: %+v", nodes)
	}
}

// testForgetNode forgets a dead node that held a claim, the reconcile
// lease and local state: the other node takes its work and the lease at
// once, keeps its own state, and a second forget finds nothing.
func testForgetNode(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	a, b, ca, cb, _ := twoNodes(t, open)
	shared := func(n string) bool { return n == "sql" }
	na := node.Bind(a, ca, node.Options{ID: "n1", Shared: shared})
	nb := node.Bind(b, cb, node.Options{ID: "n2", Shared: shared})
	for i := range 3 {
		mustPut(t, na, fmt.Sprintf("f%d.example", i), 1)
	}
	for _, s := range []*node.Store{na, nb} {
		if err := s.Forget(ctx, []string{"builtin", "sql"}); err != nil {
			t.Fatal(err)
		}
	}
	for id, c := range map[string]store.Cluster{"n1": ca, "n2": cb} {
		if err := c.Heartbeat(ctx, store.Node{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if w := claim(t, ca, "n1", 2); len(w) != 2 {
		t.Fatalf("n1 claimed %v", dueNames(w))
	}
	if ok, err := ca.AcquireLease(ctx, "reconcile", "n1", time.Hour); err != nil || !ok {
		t.Fatalf("n1 lease: %v, %v", ok, err)
	}
	// n1 dies here, holding two claims, the lease and its builtin's rows.
	f, err := cb.ForgetNode(ctx, "n1")
	want := store.Forgotten{Node: true, Backends: 1, States: 3, Claims: 2, Leases: 1}
	if err != nil || f != want {
		t.Fatalf("ForgetNode = %+v, %v; want %+v", f, err, want)
	}
	if w := claim(t, cb, "n2", 10); len(w) != 3 {
		t.Fatalf("after forgetting n1, n2 claimed %v; want all three at once", dueNames(w))
	}
	if ok, err := cb.AcquireLease(ctx, "reconcile", "n2", time.Minute); err != nil || !ok {
		t.Fatalf("the lease stayed with the forgotten node: %v, %v", ok, err)
	}
	var keys []string
	for _, st := range mustStates(t, b, "f0.example") {
		keys = append(keys, st.Backend)
	}
	if !equalStrings(keys, []string{"builtin@n2", "sql"}) {
		t.Fatalf("state keys after forgetting n1 = %v", keys)
	}
	if nodes, err := cb.Nodes(ctx); err != nil || len(nodes) != 1 || nodes[0].ID != "n2" {
		t.Fatalf("nodes after forgetting n1 = %+v, %v", nodes, err)
	}
	if _, err := cb.ForgetNode(ctx, "n1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second forget: %v, want ErrNotFound", err)
	}
	if w, _ := mustDue(t, nb, "builtin", 10); len(w) != 3 {
		t.Fatalf("n2's own builtin rows touched: due %v", dueNames(w))
	}
}

// testConcurrentSameZone pushes one zone through two handles at once: every
// push gets its own version, and the stored text is the one with the
// highest version.
func testConcurrentSameZone(t *testing.T, open SharedOpener) {
	ctx := context.Background()
	a, b, _, _, _ := twoNodes(t, open)
	const each = 20
	type ack struct {
		version int64
		serial  uint32
	}
	acks := make(chan ack, 2*each)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for i, s := range []store.Store{a, b} {
		wg.Go(func() {
			for j := range each {
				serial := uint32(i*1000 + j + 1)
				z, err := s.Put(ctx, testZone("race.example", serial))
				if err != nil {
					report(errs, err)
					return
				}
				acks <- ack{z.Version, serial}
			}
		})
	}
	wg.Wait()
	close(acks)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	var last ack
	for x := range acks {
		if seen[x.version] {
			t.Fatalf("version %d acknowledged twice", x.version)
		}
		seen[x.version] = true
		if x.version > last.version {
			last = x
		}
	}
	got, err := b.Get(ctx, "race.example")
	if err != nil || got.Version != last.version || got.Serial != last.serial ||
		got.Canonical != testZone("race.example", last.serial).Canonical {
		t.Fatalf("stored v%d serial %d, %v; last acknowledged v%d serial %d", got.Version, got.Serial, err, last.version, last.serial)
	}
}

// ConcurrentClaims is the case "ConcurrentClaimsNeverShareAZone" alone, for
// an implementation that runs it many times on one database server.
func ConcurrentClaims(t *testing.T, open SharedOpener) { testConcurrentClaims(t, open) }

// ConcurrentPushes is the case "ConcurrentPushesOfOneZone" alone, likewise.
func ConcurrentPushes(t *testing.T, open SharedOpener) { testConcurrentSameZone(t, open) }
