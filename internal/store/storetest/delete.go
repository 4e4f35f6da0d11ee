package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// TestDeleteIfCurrent tombstones only the row the caller checked: a newer
// version or another owner leaves the zone live and says store.ErrChanged.
func testDeleteIfCurrent(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	z := mustPut(t, s, "example.com", 1) // version 1, owner da1.example.net

	cases := []struct {
		version int64
		owner   string
	}{
		{0, z.OwnerHost},
		{2, z.OwnerHost},
		{1, "da2.example.net"},
		{1, "DA1.example.net"}, // byte for byte: aliases are the caller's business
		{1, ""},
	}
	for _, c := range cases {
		if _, err := s.DeleteIfCurrent(ctx, "example.com", c.version, c.owner); !errors.Is(err, store.ErrChanged) {
			t.Fatalf("DeleteIfCurrent(v%d, %q) = %v, want store.ErrChanged", c.version, c.owner, err)
		}
	}
	if cur, err := s.Get(ctx, "example.com"); err != nil || cur.Version != 1 {
		t.Fatalf("after refused deletes: %+v, %v", cur, err)
	}
	if w, _ := mustDue(t, s, "bind", 10); !equalStrings(dueNames(w), []string{"example.com@1"}) {
		t.Fatalf("refused deletes made work: %v", dueNames(w))
	}

	gone, err := s.DeleteIfCurrent(ctx, "Example.COM.", 1, "da1.example.net")
	if err != nil || !gone.Deleted || gone.Version != 2 || gone.OwnerHost != "da1.example.net" {
		t.Fatalf("matching delete = %+v, %v", gone, err)
	}
	if w, _ := mustDue(t, s, "bind", 10); !equalStrings(dueNames(w), []string{"example.com@2"}) {
		t.Fatalf("tombstone not due: %v", dueNames(w))
	}
	_, err = s.DeleteIfCurrent(ctx, "example.com", 2, "da1.example.net")
	wantNotFound(t, err)
	_, err = s.DeleteIfCurrent(ctx, "never.example", 1, "da1.example.net")
	wantNotFound(t, err)
}

// TestDeleteIfCurrentLosesToTransfer interleaves a read, a push from a new
// owner and the delete: the transfer wins.
func testDeleteIfCurrentLosesToTransfer(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	read := mustPut(t, s, "moved.example", 1)
	moved := testZone("moved.example", 1)
	moved.OwnerHost = "da2.example.net"
	if _, err := s.Put(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteIfCurrent(ctx, "moved.example", read.Version, read.OwnerHost); !errors.Is(err, store.ErrChanged) {
		t.Fatalf("delete after transfer = %v, want store.ErrChanged", err)
	}
	if cur, err := s.Get(ctx, "moved.example"); err != nil || cur.OwnerHost != "da2.example.net" {
		t.Fatalf("transferred zone = %+v, %v", cur, err)
	}
}
