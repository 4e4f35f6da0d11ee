package knotctl

import (
	"context"
	"testing"

	"github.com/dadns/dadns/internal/testutil/knottest"
)

// BenchmarkStatus compares a connection per action (what the backend
// does) with several actions over one kept connection: the difference is
// the cost of connecting.
func BenchmarkStatus(b *testing.B) {
	k := knottest.Start(b, knottest.Options{})
	c := &Client{Socket: k.Socket}
	ctx := context.Background()
	b.Run("connection-per-action", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if r, err := c.Run(ctx, "status"); err != nil || r.Failed {
				b.Fatal(r, err)
			}
		}
	})
	b.Run("one-connection-10-actions", func(b *testing.B) {
		actions := make([][]string, 10)
		for i := range actions {
			actions[i] = []string{"status"}
		}
		for i := 0; i < b.N; i += 10 {
			if rs, err := c.Session(ctx, actions); err != nil || len(rs) != 10 {
				b.Fatal(rs, err)
			}
		}
	})
}
