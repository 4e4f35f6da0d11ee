package corednsmysql

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestProbe: the probe answers while the database runs, fails while it is
// stopped, and answers again once it is back.
func TestProbe(t *testing.T) {
	srv := mariadbtest.Start(t) // its own server: this test stops it
	f := newFixtureOn(t, srv, Options{})
	probe := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return f.b.Probe(ctx)
	}
	if err := probe(); err != nil {
		t.Fatalf("probe of a running server: %v", err)
	}
	srv.Stop()
	if err := probe(); err == nil {
		t.Fatal("probe of a stopped server succeeded")
	} else {
		t.Logf("probe while stopped: %v", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := probe()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
