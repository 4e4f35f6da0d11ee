package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

func testPendingAndTroubled(t *testing.T, o Opener) {
	s, clk := openTest(t, o)
	ctx := context.Background()
	mustPut(t, s, "a.example", 1)
	mustPut(t, s, "b.example", 1)
	mustPut(t, s, "c.example", 1)
	applyAll(t, s, "be")
	mustDelete(t, s, "c.example")
	mustPut(t, s, "b.example", 2)
	if err := s.Failed(ctx, "be", []store.Failure{{Name: "b.example", Version: 2, Err: "boom", Next: clk.Now().Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	applies, deletes, err := s.Pending(ctx, "be")
	if err != nil || applies != 1 || deletes != 1 {
		t.Fatalf("pending = %d applies, %d deletes, %v; want 1, 1", applies, deletes, err)
	}
	tr, err := s.Troubled(ctx)
	if err != nil || len(tr) != 1 || tr[0].Zone != "b.example" || tr[0].LastError != "boom" {
		t.Fatalf("troubled = %+v, %v", tr, err)
	}
}

func testRetryNow(t *testing.T, o Opener) {
	s, clk := openTest(t, o)
	ctx := context.Background()
	mustPut(t, s, "r.example", 1)
	mustDue(t, s, "be", 10)
	if err := s.Failed(ctx, "be", []store.Failure{{Name: "r.example", Version: 1, Err: "down", Next: clk.Now().Add(30 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if due, _ := mustDue(t, s, "be", 10); len(due) != 0 {
		t.Fatal("failed zone due before its retry")
	}
	if n, err := s.RetryNow(ctx, "be"); err != nil || n != 1 {
		t.Fatalf("RetryNow = %d, %v", n, err)
	}
	due, _ := mustDue(t, s, "be", 10)
	if len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("after RetryNow: %+v", due)
	}
}
