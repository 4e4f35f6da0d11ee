package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

func testDueNewBackendGetsEverything(t *testing.T, o Opener) {
	s, _ := openTest(t, o)
	mustPut(t, s, "b.example", 1)
	mustPut(t, s, "a.example", 1)
	mustPut(t, s, "gone.example", 1)
	mustDelete(t, s, "gone.example")
	mustPut(t, s, "b.example", 2) // b is now the newest push

	w, next := mustDue(t, s, "bind", 10)
	want := []string{"a.example@1", "gone.example@2", "b.example@2"}
	if !equalStrings(dueNames(w), want) || !next.IsZero() {
		t.Fatalf("Due = %v, next %v; want %v", dueNames(w), next, want)
	}
	for _, x := range w {
		if x.Zone.Deleted != (x.Zone.Name == "gone.example") || (!x.Zone.Deleted && x.Zone.Canonical == "") || x.Attempts != 0 {
			t.Errorf("work %+v", x)
		}
	}
	if w, _ := mustDue(t, s, "bind", 2); !equalStrings(dueNames(w), want[:2]) {
		t.Fatalf("Due limit 2 = %v", dueNames(w))
	}
	// A second backend registered later is filled the same way.
	if w, _ := mustDue(t, s, "coredns", 0); !equalStrings(dueNames(w), want) {
		t.Fatalf("second backend Due = %v", dueNames(w))
	}
}

func testAppliedStopsDue(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	z := mustPut(t, s, "example.com", 1)
	mustDue(t, s, "bind", 10)
	if err := s.Applied(ctx, "bind", []store.Applied{{Name: z.Name, Version: z.Version, Hash: z.Hash}}); err != nil {
		t.Fatal(err)
	}
	if w, _ := mustDue(t, s, "bind", 10); len(w) != 0 {
		t.Fatalf("still due: %v", dueNames(w))
	}
	st := stateOf(t, s, "example.com", "bind")
	if st.State != store.StateApplied || st.AppliedVersion != 1 || st.AppliedHash != z.Hash || st.AppliedAt.IsZero() {
		t.Fatalf("state %+v", st)
	}
	// Other backends are independent.
	if w, _ := mustDue(t, s, "nsd", 10); len(w) != 1 {
		t.Fatalf("nsd due = %v", dueNames(w))
	}
}

func testNewerPushResetsAttempts(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openTest(t, o)
	z := mustPut(t, s, "example.com", 1)
	mustDue(t, s, "bind", 10)
	fail := store.Failure{Name: z.Name, Version: 1, Err: "connection refused", Next: clock.Now().Add(30 * time.Second)}
	if err := s.Failed(ctx, "bind", []store.Failure{fail}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	w, _ := mustDue(t, s, "bind", 10)
	if len(w) != 1 || w[0].Attempts != 1 {
		t.Fatalf("retry = %+v", w)
	}
	fail.Next = clock.Now().Add(2 * time.Minute)
	if err := s.Failed(ctx, "bind", []store.Failure{fail}); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, s, z.Name, "bind"); st.Attempts != 2 || st.State != store.StateFailed {
		t.Fatalf("after 2 failures: %+v", st)
	}

	mustPut(t, s, "example.com", 2)
	w, next := mustDue(t, s, "bind", 10)
	if len(w) != 1 || w[0].Attempts != 0 || w[0].Zone.Version != 2 || !next.IsZero() {
		t.Fatalf("after newer push: %+v next %v", w, next)
	}
	st := stateOf(t, s, z.Name, "bind")
	if st.State != store.StatePending || st.LastError != "connection refused" {
		t.Fatalf("state %+v: want pending with the last error kept", st)
	}
}

func testFailureWaitsForNextAttempt(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openTest(t, o)
	z := mustPut(t, s, "example.com", 1)
	other := mustPut(t, s, "other.example", 1)
	mustDue(t, s, "bind", 10)
	retry := clock.Now().Add(30 * time.Second)
	err := s.Failed(ctx, "bind", []store.Failure{{Name: z.Name, Version: z.Version, Err: "boom", Next: retry}})
	if err != nil {
		t.Fatal(err)
	}
	w, next := mustDue(t, s, "bind", 10)
	if !equalStrings(dueNames(w), []string{"other.example@1"}) || !next.Equal(retry) {
		t.Fatalf("Due = %v next %v; want other only, next %v", dueNames(w), next, retry)
	}
	if err := s.Applied(ctx, "bind", []store.Applied{{Name: other.Name, Version: 1, Hash: other.Hash}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(29 * time.Second)
	if w, next := mustDue(t, s, "bind", 10); len(w) != 0 || !next.Equal(retry) {
		t.Fatalf("before retry time: %v next %v", dueNames(w), next)
	}
	clock.Advance(time.Second)
	w, next = mustDue(t, s, "bind", 10)
	if !equalStrings(dueNames(w), []string{"example.com@1"}) || w[0].Attempts != 1 || !next.IsZero() {
		t.Fatalf("at retry time: %v next %v", w, next)
	}
}

func testPermanentFailureWaitsForNewVersion(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openTest(t, o)
	z := mustPut(t, s, "example.com", 1)
	mustDue(t, s, "bind", 10)
	err := s.Failed(ctx, "bind", []store.Failure{{Name: z.Name, Version: 1, Err: "unsupported type", Permanent: true,
		Next: clock.Now().Add(time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(365 * 24 * time.Hour)
	if w, next := mustDue(t, s, "bind", 10); len(w) != 0 || !next.IsZero() {
		t.Fatalf("permanent failure due: %v next %v", dueNames(w), next)
	}
	if st := stateOf(t, s, z.Name, "bind"); st.State != store.StatePermanent || st.LastError != "unsupported type" {
		t.Fatalf("state %+v", st)
	}
	mustPut(t, s, "example.com", 2)
	if w, _ := mustDue(t, s, "bind", 10); !equalStrings(dueNames(w), []string{"example.com@2"}) {
		t.Fatalf("after new version: %v", dueNames(w))
	}
}

func testStaleAppliedKeepsNewerPushDue(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	v1 := mustPut(t, s, "example.com", 1)
	mustDue(t, s, "bind", 10) // worker takes v1...
	v2 := mustPut(t, s, "example.com", 2)
	// ...and records v1 after v2 was pushed.
	if err := s.Applied(ctx, "bind", []store.Applied{{Name: v1.Name, Version: 1, Hash: v1.Hash}}); err != nil {
		t.Fatal(err)
	}
	w, _ := mustDue(t, s, "bind", 10)
	if !equalStrings(dueNames(w), []string{"example.com@2"}) {
		t.Fatalf("Due = %v, want v2", dueNames(w))
	}
	if st := stateOf(t, s, v1.Name, "bind"); st.AppliedVersion != 1 || st.DesiredVersion != 2 || st.State != store.StatePending {
		t.Fatalf("state %+v", st)
	}
	// A stale failure of v1 does not touch v2's schedule either.
	if err := s.Failed(ctx, "bind", []store.Failure{{Name: v1.Name, Version: 1, Err: "late"}}); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, s, v1.Name, "bind"); st.Attempts != 0 || st.State != store.StatePending {
		t.Fatalf("stale failure changed state: %+v", st)
	}
	if err := s.Applied(ctx, "bind", []store.Applied{{Name: v2.Name, Version: 2, Hash: v2.Hash}}); err != nil {
		t.Fatal(err)
	}
	// Neither a replayed older record nor a version never issued moves it.
	err := s.Applied(ctx, "bind", []store.Applied{{Name: v1.Name, Version: 1, Hash: v1.Hash}, {Name: v1.Name, Version: 9}})
	if err != nil {
		t.Fatal(err)
	}
	st := stateOf(t, s, v1.Name, "bind")
	if st.AppliedVersion != 2 || st.AppliedHash != v2.Hash || st.State != store.StateApplied {
		t.Fatalf("state %+v", st)
	}
	if w, _ := mustDue(t, s, "bind", 10); len(w) != 0 {
		t.Fatalf("due after v2 applied: %v", dueNames(w))
	}
}

func testDeleteAndRecreateInOrder(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	mustPut(t, s, "example.com", 1)
	applyAll(t, s, "bind")
	mustDelete(t, s, "example.com")
	w, _ := mustDue(t, s, "bind", 10)
	if len(w) != 1 || !w[0].Zone.Deleted || w[0].Zone.Version != 2 {
		t.Fatalf("tombstone work = %+v", w)
	}
	mustPut(t, s, "example.com", 5) // re-created before the backend deleted
	w, _ = mustDue(t, s, "bind", 10)
	if len(w) != 1 || w[0].Zone.Deleted || w[0].Zone.Version != 3 {
		t.Fatalf("after re-create = %+v", w)
	}
	// The late delete record (v2) must not hide v3.
	if err := s.Applied(ctx, "bind", []store.Applied{{Name: "example.com", Version: 2}}); err != nil {
		t.Fatal(err)
	}
	if w, _ := mustDue(t, s, "bind", 10); !equalStrings(dueNames(w), []string{"example.com@3"}) {
		t.Fatalf("Due = %v", dueNames(w))
	}
}

func testDueEmptyBackendName(t *testing.T, o Opener) {
	s, _ := openTest(t, o)
	if _, _, err := s.Due(context.Background(), "", 10); err == nil {
		t.Fatal("Due with empty backend succeeded")
	}
}
