package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

func testSummary(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openTest(t, o)
	first := clock.Now()
	for _, n := range []string{"ok.example", "tomb.example", "fail.example", "perm.example", "new.example"} {
		mustPut(t, s, n, 1)
		clock.Advance(time.Second)
	}
	mustDelete(t, s, "tomb.example")
	applyAll(t, s, "bind")
	for _, n := range []string{"fail.example", "perm.example", "new.example"} {
		mustPut(t, s, n, 2)
	}
	clock.Advance(time.Minute)
	err := s.Failed(ctx, "bind", []store.Failure{{Name: "fail.example", Version: 2, Err: "timeout", Next: clock.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	err = s.Failed(ctx, "bind", []store.Failure{{Name: "perm.example", Version: 2, Err: "bad record", Permanent: true}})
	if err != nil {
		t.Fatal(err)
	}

	sum, err := s.Summary(ctx, "bind")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Summary{Backend: "bind", Applied: 1, Behind: 1, Failing: 1, Permanent: 1,
		LastError: "bad record", LastErrorZone: "perm.example"}
	got := sum
	got.OldestPending, got.LastApplied = time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("Summary = %+v\nwant %+v", got, want)
	}
	if !sum.OldestPending.After(first) || sum.LastApplied.IsZero() {
		t.Fatalf("times: oldest pending %v, last applied %v", sum.OldestPending, sum.LastApplied)
	}

	fresh, err := s.Summary(ctx, "unregistered")
	if err != nil || fresh.Behind != 5 || fresh.Applied != 0 || !fresh.OldestPending.Equal(first) {
		t.Fatalf("unregistered summary = %+v, %v", fresh, err)
	}
}

func testBackendStatesDetail(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openTest(t, o)
	z := mustPut(t, s, "example.com", 1)
	mustDue(t, s, "bind", 1)
	mustDue(t, s, "nsd", 1)
	next := clock.Now().Add(5 * time.Minute)
	if err := s.Failed(ctx, "nsd", []store.Failure{{Name: z.Name, Version: 1, Err: "refused", Next: next}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Applied(ctx, "bind", []store.Applied{{Name: z.Name, Version: 1, Hash: z.Hash}}); err != nil {
		t.Fatal(err)
	}
	states, err := s.BackendStates(ctx, "EXAMPLE.com.")
	if err != nil || len(states) != 2 {
		t.Fatalf("BackendStates = %+v, %v", states, err)
	}
	b, n := states[0], states[1]
	if b.Backend != "bind" || b.State != store.StateApplied || b.AppliedHash != z.Hash || !b.AppliedAt.Equal(clock.Now()) {
		t.Errorf("bind: %+v", b)
	}
	if n.Backend != "nsd" || n.State != store.StateFailed || n.Attempts != 1 || n.LastError != "refused" ||
		!n.NextAttempt.Equal(next) || !n.FailedAt.Equal(clock.Now()) || n.AppliedVersion != 0 {
		t.Errorf("nsd: %+v", n)
	}
}
