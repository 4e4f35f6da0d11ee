package mysql

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/galeratest"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// BenchmarkPut measures one acknowledged push (a ~2 KB zone, two backends)
// on each store, one pusher at a time (ack latency) and sixteen at once
// (throughput): SQLite, one MariaDB server, and a 3-node Galera cluster
// with the pushes spread over its nodes.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	stores := map[string]func(b *testing.B) []store.Store{
		"sqlite": func(b *testing.B) []store.Store {
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "d.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return []store.Store{s}
		},
		"mariadb": func(b *testing.B) []store.Store {
			srv := mariadbtest.Start(b)
			s, err := Open(ctx, srv.DSN(srv.NewDatabase(b)), Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return []store.Store{s}
		},
		"galera": func(b *testing.B) []store.Store {
			c := galeratest.Start(b, 3)
			db := c.NewDatabase(b)
			var out []store.Store
			for i := range 3 {
				s, err := Open(ctx, c.DSN(i, db), Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				out = append(out, s)
			}
			return out
		},
	}
	for _, name := range []string{"sqlite", "mariadb", "galera"} {
		b.Run(name, func(b *testing.B) {
			if name == "galera" && testing.Short() {
				b.Skip("starts a Galera cluster")
			}
			sts := stores[name](b)
			if err := sts[0].Forget(ctx, []string{"bind", "coredns"}); err != nil {
				b.Fatal(err)
			}
			b.Run("serial", func(b *testing.B) { benchPuts(b, sts, 1) })
			b.Run("pushers=16", func(b *testing.B) { benchPuts(b, sts, 16) })
		})
	}
}

func benchPuts(b *testing.B, sts []store.Store, pushers int) {
	ctx := context.Background()
	var n atomic.Int64
	put := func() error {
		i := n.Add(1)
		name := fmt.Sprintf("z%d.bench.example", i%5000)
		z := store.Zone{Name: name, Canonical: strings.Repeat("host IN A 192.0.2.1\n", 100) + name, OwnerHost: "da1"}
		_, err := sts[int(i)%len(sts)].Put(ctx, z)
		return err
	}
	start := time.Now()
	if pushers == 1 {
		for b.Loop() {
			if err := put(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		// RunParallel runs parallelism × GOMAXPROCS goroutines.
		b.SetParallelism(max(1, pushers/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := put(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "zones/s")
}
