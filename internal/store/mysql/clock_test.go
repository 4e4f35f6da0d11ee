package mysql

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestServerClock runs two nodes without an injected clock, one on a
// machine whose clock is ten minutes fast: it reads the server's time, so
// it neither takes the other's live claim nor writes a heartbeat from the
// future.
func TestServerClock(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	const skew = 10 * time.Minute
	open := func(local func() time.Time) *Store {
		s, err := Open(ctx, dsn, Options{local: local})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	right := open(nil)
	fast := open(func() time.Time { return time.Now().Add(skew) })
	if off := fast.ClockOffset(); off > -skew+5*time.Second || off < -skew-5*time.Second {
		t.Fatalf("fast node's offset = %v, want about %v", off, -skew)
	}
	if d := fast.Now().Sub(right.Now()); d > 5*time.Second || d < -5*time.Second {
		t.Fatalf("the two nodes' store clocks differ by %v", d)
	}
	if _, err := right.Put(ctx, store.Zone{Name: "example.com", Canonical: "text"}); err != nil {
		t.Fatal(err)
	}
	if w, _, err := right.Claim(ctx, "sql", "right", time.Minute, 10); err != nil || len(w) != 1 {
		t.Fatalf("right's claim: %v, %v", w, err)
	}
	if w, _, err := fast.Claim(ctx, "sql", "fast", time.Minute, 10); err != nil || len(w) != 0 {
		t.Fatalf("the fast node took a live claim: %v, %v", w, err)
	}
	if err := fast.Heartbeat(ctx, store.Node{ID: "fast"}); err != nil {
		t.Fatal(err)
	}
	nodes, err := right.Nodes(ctx)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes: %+v, %v", nodes, err)
	}
	if d := right.Now().Sub(nodes[0].LastSeen); d < -5*time.Second || d > 5*time.Second {
		t.Fatalf("the fast node's heartbeat is %v off the server's clock", -d)
	}
}

// TestAddressList opens a store through datastore.host "dead,live": the
// address that refuses connections is skipped, pushes go to the live one.
func TestAddressList(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	db := srv.NewDatabase(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens there now
	cfg, err := Keys{Host: dead + "," + srv.Addr(), Name: db, User: mariadbtest.User, Pass: srv.Password}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Net != FailoverNet {
		t.Fatalf("two hosts gave network %q", cfg.Net)
	}
	s, err := OpenConfig(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(ctx, store.Zone{Name: "example.com", Canonical: "text"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
}
