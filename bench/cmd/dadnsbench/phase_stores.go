package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/testutil/galeratest"
)

// storesPhase loads every zone into a fresh dadns with the builtin backend
// alone, once per datastore under test (SQLite, one MariaDB server, a
// 3-node Galera cluster on this host), and reports the ack latency, the
// push throughput and the time until every zone is served, side by side.
func (b *bench) storesPhase(ctx context.Context) {
	for _, kind := range b.opt.storeKinds() {
		if ctx.Err() != nil {
			return
		}
		dir := filepath.Join(b.tmp, "store-"+kind)
		ds, stop, err := b.startDatastore(ctx, kind, dir)
		if err != nil {
			b.rep.fail("stores", kind, err)
			continue
		}
		b.loadWithStore(ctx, kind, dir, ds)
		stop()
	}
}

// startDatastore starts the database of kind and returns dadns's datastore
// section for it ("" for SQLite) and how to stop it.
func (b *bench) startDatastore(ctx context.Context, kind, dir string) (string, func(), error) {
	switch kind {
	case "sqlite":
		return "", func() {}, nil
	case "mariadb":
		port, err := b.ports.Next()
		if err != nil {
			return "", nil, err
		}
		m, err := b.startMaria(ctx, "store_mariadb", filepath.Join(dir, "mariadb"), port)
		if err != nil {
			return "", nil, err
		}
		return datastoreYAML(loopback(m.port), mariaDatabase, mariaUser, m.password), func() { m.proc.stop() }, nil
	case "galera":
		slog.Info("starting a 3-node Galera cluster")
		c, err := galeratest.Launch(filepath.Join(dir, "galera"), 3)
		if err != nil {
			return "", nil, err
		}
		if err := c.CreateDatabase("dadns"); err != nil {
			c.Close()
			return "", nil, err
		}
		return datastoreYAML(c.Addrs(), "dadns", galeratest.User, c.Password), c.Close, nil
	}
	return "", nil, fmt.Errorf("dadnsbench: unknown store %q", kind)
}

// datastoreYAML is a top-level datastore section; dadnsConfig appends it
// after the backends.
func datastoreYAML(hosts, name, user, pass string) string {
	return fmt.Sprintf("datastore:\n  type: mysql\n  host: %q\n  name: %s\n  user: %s\n  pass: %q\n", hosts, name, user, pass)
}

// loadWithStore pushes every zone into a dadns on the given datastore and
// reports the figures under "stores".
func (b *bench) loadWithStore(ctx context.Context, kind, dir, datastore string) {
	s, err := b.startDadns(ctx, dir, datastore)
	if err != nil {
		b.rep.fail("stores", kind+": dadns start", err)
		return
	}
	defer s.proc.stop()
	ectx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	acked := make(chan int, len(b.zones))
	var seen map[int]time.Time
	var serr error
	var wg sync.WaitGroup
	wg.Go(func() { seen, serr = awaitServed(ectx, s.dnsAddr, b.zones, acked, s.proc.alive) })
	cpu0 := takeCPU()
	st := pushAll(ectx, s.da, b.zones, b.opt.pushers, acked)
	wg.Wait()
	cpu1 := takeCPU()
	n := len(st.latency)
	if n == 0 || st.refused+st.failed > 0 {
		b.rep.problem(fmt.Sprintf("stores: %s: %d accepted, %d refused, %d without reply", kind, n, st.refused, st.failed))
	}
	if n == 0 {
		return
	}
	b.rep.add("stores", fmt.Sprintf("%s: %d new zones, %d pushers: ack latency p50 / p95 / p99; throughput", kind, len(b.zones), b.opt.pushers),
		"%s / %s / %s; %.0f zones/s", ms(percentile(st.latency, 50)), ms(percentile(st.latency, 95)), ms(percentile(st.latency, 99)),
		rate(n, st.last.Sub(st.start)))
	if serr != nil {
		b.rep.fail("stores", kind+": every zone served", serr)
		return
	}
	e2e := latest(seen).Sub(st.start)
	b.rep.add("stores", kind+": first push → every zone served by the builtin", "%s (%.0f zones/s)", secs(e2e), rate(len(seen), e2e))
	b.rep.add("stores", kind+": first push → every zone served: CPU seconds by process (children waited for included; the bench is dadnsbench)", "%s", cpuUse(cpu0, cpu1))
}

// storeKinds parses -stores.
func (o options) storeKinds() []string {
	var out []string
	for f := range strings.SplitSeq(o.stores, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
