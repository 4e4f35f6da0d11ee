package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

func pageNamesOf(p store.ZonePage) []string {
	var out []string
	for _, z := range p.Zones {
		out = append(out, z.Name)
	}
	return out
}

func testZonePageSearchFilterSort(t *testing.T, o Opener) {
	s, clock := openOperator(t, o)
	ctx := context.Background()
	for _, n := range []string{"example.com", "an-example.org", "example.net", "other.com", "zeta.example"} {
		mustPut(t, s, n, 1)
		clock.Advance(time.Second)
	}
	z := testZone("bob.test", 1)
	z.OwnerHost, z.OwnerUser = "da2.example.net", "bob"
	if _, err := s.Put(ctx, z); err != nil {
		t.Fatal(err)
	}
	mustDelete(t, s, "other.com")

	cases := []struct {
		q    store.ZoneQuery
		want []string
		tot  int
	}{
		{store.ZoneQuery{}, []string{"an-example.org", "bob.test", "example.com", "example.net", "zeta.example"}, 5},
		{store.ZoneQuery{Search: "EXAMPLE"}, []string{"example.com", "example.net", "an-example.org", "zeta.example"}, 4},
		{store.ZoneQuery{Search: "example", Limit: 2, Offset: 2}, []string{"an-example.org", "zeta.example"}, 4},
		{store.ZoneQuery{Sort: "-name", Limit: 2}, []string{"zeta.example", "example.net"}, 5},
		{store.ZoneQuery{Sort: "updated", Limit: 2}, []string{"bob.test", "zeta.example"}, 5},
		{store.ZoneQuery{OwnerHost: "da2.example.net"}, []string{"bob.test"}, 1},
		{store.ZoneQuery{OwnerUser: "alice", Search: "net"}, []string{"example.net"}, 1},
		{store.ZoneQuery{Search: "other"}, nil, 0},
	}
	for _, c := range cases {
		p, err := s.ZonePage(ctx, c.q)
		if err != nil {
			t.Fatalf("%+v: %v", c.q, err)
		}
		if !equalStrings(pageNamesOf(p), c.want) || p.Total != c.tot {
			t.Errorf("%+v: got %v (total %d), want %v (total %d)", c.q, pageNamesOf(p), p.Total, c.want, c.tot)
		}
	}
	for _, bad := range []store.ZoneQuery{{Sort: "name; DROP TABLE zones"}, {State: "weird"}} {
		if _, err := s.ZonePage(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func testZonePageStateFilters(t *testing.T, o Opener) {
	s, clock := openOperator(t, o)
	ctx := context.Background()
	for _, n := range []string{"a.test", "b.test", "c.test"} {
		mustPut(t, s, n, 1)
	}
	applyAll(t, s, "dc1")
	applyAll(t, s, "dc2")
	mustPut(t, s, "b.test", 2) // behind on both
	a, _ := s.Get(ctx, "a.test")
	if err := s.Failed(ctx, "dc2", []store.Failure{{Name: "a.test", Version: a.Version, Err: "boom", Next: clock.Now().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	// a.test was applied at this version: Failed only marks rows still behind.
	if err := s.ResyncOn(ctx, "a.test", "dc2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Failed(ctx, "dc2", []store.Failure{{Name: "a.test", Version: a.Version, Err: "boom", Next: clock.Now().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	failing, err := s.ZonePage(ctx, store.ZoneQuery{State: store.FilterFailing})
	if err != nil || !equalStrings(pageNamesOf(failing), []string{"a.test"}) {
		t.Fatalf("failing = %v, %v", pageNamesOf(failing), err)
	}
	behind, err := s.ZonePage(ctx, store.ZoneQuery{State: store.FilterBehind})
	if err != nil || !equalStrings(pageNamesOf(behind), []string{"b.test"}) {
		t.Fatalf("behind = %v, %v", pageNamesOf(behind), err)
	}
	states, err := s.StatesOf(ctx, []string{"a.test", "c.test"})
	if err != nil || len(states["a.test"]) != 2 || states["a.test"][1].State != store.StateFailed || states["c.test"][0].State != store.StateApplied {
		t.Fatalf("states = %+v, %v", states, err)
	}

	fails, total, err := s.RecentFailures(ctx, 10)
	if err != nil || total != 1 || len(fails) != 1 || fails[0].LastError != "boom" || fails[0].Backend != "dc2" {
		t.Fatalf("recent failures = %+v (%d), %v", fails, total, err)
	}
	n, err := s.RetryZoneNow(ctx, "a.test")
	if err != nil || n != 1 {
		t.Fatalf("retry now = %d, %v", n, err)
	}
	if st := stateOf(t, s, "a.test", "dc2"); st.NextAttempt.After(clock.Now()) {
		t.Fatalf("still waiting until %v", st.NextAttempt)
	}
	w, _ := mustDue(t, s, "dc2", 10)
	if !equalStrings(dueNames(w), []string{"a.test@1", "b.test@2"}) {
		t.Fatalf("due on dc2 = %v", dueNames(w))
	}
}

func testResyncOnOneBackend(t *testing.T, o Opener) {
	s, _ := openOperator(t, o)
	ctx := context.Background()
	mustPut(t, s, "a.test", 1)
	applyAll(t, s, "dc1")
	applyAll(t, s, "dc2")
	if err := s.ResyncOn(ctx, "a.test", "dc1"); err != nil {
		t.Fatal(err)
	}
	if w, _ := mustDue(t, s, "dc2", 10); len(w) != 0 {
		t.Fatalf("dc2 has work: %v", dueNames(w))
	}
	w, _ := mustDue(t, s, "dc1", 10)
	if !equalStrings(dueNames(w), []string{"a.test@1"}) {
		t.Fatalf("dc1 due = %v", dueNames(w))
	}
	applyAll(t, s, "dc1")
	if st := stateOf(t, s, "a.test", "dc1"); st.State != store.StateApplied || st.AppliedVersion != 1 {
		t.Fatalf("after re-apply: %+v", st)
	}
	wantNotFound(t, s.ResyncOn(ctx, "a.test", "nope"))
	wantNotFound(t, s.ResyncOn(ctx, "absent.test", "dc1"))
	mustDelete(t, s, "a.test")
	wantNotFound(t, s.ResyncOn(ctx, "a.test", "dc1"))
}

func testHistoryKeepsTheLastVersions(t *testing.T, o Opener) {
	s, clock := openOperator(t, o)
	ctx := context.Background()
	for i := range store.HistoryLength + 5 {
		mustPut(t, s, "a.test", uint32(100+i))
		clock.Advance(time.Minute)
	}
	mustPut(t, s, "b.test", 7)
	mustDelete(t, s, "a.test")
	h, err := s.History(ctx, "A.test.")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != store.HistoryLength {
		t.Fatalf("kept %d entries, want %d", len(h), store.HistoryLength)
	}
	if !h[0].Deleted || h[0].Version != store.HistoryLength+6 || h[1].Serial != 100+store.HistoryLength+4 || h[1].OwnerHost != "da1.example.net" {
		t.Fatalf("newest entries: %+v %+v", h[0], h[1])
	}
	if !h[1].At.After(h[2].At) {
		t.Fatalf("not newest first: %v, %v", h[1].At, h[2].At)
	}
	if hb, _ := s.History(ctx, "b.test"); len(hb) != 1 || hb[0].Serial != 7 {
		t.Fatalf("b.test history: %+v", hb)
	}
	clock.Advance(365 * 24 * time.Hour)
	if _, err := s.Purge(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.History(ctx, "a.test"); len(h) != 0 {
		t.Fatalf("purged zone keeps history: %+v", h)
	}
}

func testSizeBytes(t *testing.T, o Opener) {
	s, _ := openOperator(t, o)
	before, err := s.SizeBytes(context.Background())
	if err != nil || before <= 0 {
		t.Fatalf("size %d, %v", before, err)
	}
	for i := range 200 {
		mustPut(t, s, fmt.Sprintf("z%d.test", i), 1)
	}
	if after, _ := s.SizeBytes(context.Background()); after <= before {
		t.Fatalf("size did not grow: %d → %d", before, after)
	}
}

// RunOperator runs the cases of the operator pages' queries (store.Operator)
// on a fresh store per case.
func RunOperator(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(t *testing.T, o Opener)
	}{
		{"ZonePageSearchFilterSort", testZonePageSearchFilterSort},
		{"ZonePageStateFilters", testZonePageStateFilters},
		{"OwnerChangeMovesZone", testOwnerChangeMovesZone},
		{"ResyncOnOneBackend", testResyncOnOneBackend},
		{"HistoryKeepsTheLastVersions", testHistoryKeepsTheLastVersions},
		{"SizeBytes", testSizeBytes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// openOperator opens a fresh store that implements store.Operator.
func openOperator(t *testing.T, o Opener) (store.Operator, *fakeClock) {
	t.Helper()
	s, clock := openTest(t, o)
	op, ok := s.(store.Operator)
	if !ok {
		t.Fatalf("%T does not implement store.Operator", s)
	}
	return op, clock
}

// testOwnerChangeMovesZone pushes a zone from one owner, then from another
// host, then from another user of it: each push stores the new owner, keeps
// the zone's creation time, and the owner filter finds the zone under its
// current owner only; a re-push by the same owner keeps it there.
func testOwnerChangeMovesZone(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openOperator(t, o)
	z := testZone("moved.test", 1)
	first, err := s.Put(ctx, z)
	if err != nil {
		t.Fatal(err)
	}
	owners := []struct{ host, user string }{
		{"da2.example.net", "alice"}, {"da2.example.net", "bob"}, {"da2.example.net", "bob"},
	}
	for i, ow := range owners {
		clock.Advance(time.Second)
		z := testZone("moved.test", uint32(i+2))
		z.OwnerHost, z.OwnerUser = ow.host, ow.user
		got, err := s.Put(ctx, z)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != int64(i+2) || got.OwnerHost != ow.host || got.OwnerUser != ow.user || !got.Created.Equal(first.Created) {
			t.Fatalf("push %d by %s/%s: %+v", i+2, ow.host, ow.user, got)
		}
		stored, err := s.Get(ctx, "moved.test")
		if err != nil || stored != got {
			t.Fatalf("Get = %+v, %v; want %+v", stored, err, got)
		}
		for _, q := range []struct {
			host, user string
			want       int
		}{
			{"da1.example.net", "", 0}, {ow.host, "", 1}, {ow.host, ow.user, 1}, {ow.host, "carol", 0},
		} {
			p, err := s.ZonePage(ctx, store.ZoneQuery{OwnerHost: q.host, OwnerUser: q.user})
			if err != nil || p.Total != q.want {
				t.Fatalf("after push %d: zones of %s/%s = %d, %v; want %d", i+2, q.host, q.user, p.Total, err, q.want)
			}
		}
	}
}
