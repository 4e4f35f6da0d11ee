package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

func testForget(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	mustPut(t, s, "a.example", 1)
	mustPut(t, s, "b.example", 1)
	applyAll(t, s, "bind")
	applyAll(t, s, "old")

	if err := s.Forget(ctx, []string{"bind", "nsd"}); err != nil {
		t.Fatal(err)
	}
	states, err := s.BackendStates(ctx, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	var backends []string
	for _, st := range states {
		backends = append(backends, st.Backend+":"+string(st.State))
	}
	if !equalStrings(backends, []string{"bind:applied", "nsd:pending"}) {
		t.Fatalf("states after Forget = %v", backends)
	}
	if sum, err := s.Summary(ctx, "nsd"); err != nil || sum.Behind != 2 {
		t.Fatalf("nsd summary = %+v, %v", sum, err)
	}
	// A forgotten instance that comes back starts from nothing.
	if w, _ := mustDue(t, s, "old", 10); len(w) != 2 {
		t.Fatalf("old due = %v", dueNames(w))
	}
	if w, _ := mustDue(t, s, "bind", 10); len(w) != 0 {
		t.Fatalf("kept backend lost its state: %v", dueNames(w))
	}
	if err := s.Forget(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if states, _ := s.BackendStates(ctx, "a.example"); len(states) != 0 {
		t.Fatalf("Forget(nil) kept %+v", states)
	}
}

func testPurge(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openTest(t, o)
	mustPut(t, s, "gone.example", 1)
	mustPut(t, s, "slow.example", 1)
	mustPut(t, s, "live.example", 1)
	mustDue(t, s, "bind", 10)
	mustDue(t, s, "nsd", 10)
	mustDelete(t, s, "gone.example")
	mustDelete(t, s, "slow.example")
	applyAll(t, s, "bind")
	// nsd applies every delete but slow.example's.
	err := s.Applied(ctx, "nsd", []store.Applied{{Name: "gone.example", Version: 2}, {Name: "live.example", Version: 1}})
	if err != nil {
		t.Fatal(err)
	}

	if n, err := s.Purge(ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("Purge before the grace = %d, %v", n, err)
	}
	clock.Advance(time.Hour)
	if n, err := s.Purge(ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	_, err = s.Lookup(ctx, "gone.example")
	wantNotFound(t, err)
	if _, err := s.Lookup(ctx, "slow.example"); err != nil {
		t.Fatalf("unapplied tombstone purged: %v", err)
	}
	if states, _ := s.BackendStates(ctx, "gone.example"); len(states) != 0 {
		t.Fatalf("purged zone kept states %+v", states)
	}
	re := mustPut(t, s, "gone.example", 1)
	if re.Version != 3 {
		t.Fatalf("re-create after purge: version %d, want 3", re.Version)
	}
	mustDelete(t, s, "gone.example")
	if re := mustPut(t, s, "gone.example", 1); re.Version != 5 {
		t.Fatalf("second re-create: version %d, want 5", re.Version)
	}
}

func testSettings(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	_, err := s.GetSetting(ctx, "ui.theme")
	wantNotFound(t, err)
	for _, v := range []string{"dark", "light"} {
		if err := s.SetSetting(ctx, "ui.theme", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetSetting(ctx, "ui.theme"); err != nil || got != v {
			t.Fatalf("GetSetting = %q, %v; want %q", got, err, v)
		}
	}
}
