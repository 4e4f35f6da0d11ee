package reconcile_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/fakeda"
	"github.com/dadns/dadns/internal/zone"
)

// TestReconcileScale measures one reconciliation pass at the sizes in
// DADNS_RECONCILE_SCALE (comma-separated, e.g. 10000,100000): the store
// holds that many zones (written directly), the fake DA holds the same
// zones with 1% of them changed, and one pass runs with serial_check http
// (every zone's text read: the cost before) and with serial_check dns.
// It prints requests to DA by kind, wall time and heap; it asserts only
// that each pass repaired the changed zones. Run with -v:
//
//	DADNS_RECONCILE_SCALE=10000,100000 go test -v -run TestReconcileScale -timeout 60m ./internal/reconcile/
func TestReconcileScale(t *testing.T) {
	env := os.Getenv("DADNS_RECONCILE_SCALE")
	if env == "" {
		t.Skip("set DADNS_RECONCILE_SCALE=10000,100000 to measure a pass")
	}
	var rows []string
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 {
			t.Fatalf("DADNS_RECONCILE_SCALE: %q is not a size of 100 or more", f)
		}
		rows = append(rows, measureScale(t, n)...)
	}
	fmt.Println("\n| zones | serial_check | wall s | list pages | owners | zone texts | DNS questions | texts read for serials | fetched | peak heap over baseline MiB | allocated MiB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
}

func measureScale(t *testing.T, n int) []string {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	da := fakeda.Start(t, fakeda.Options{})
	defer da.Close()
	start := time.Now()
	var batch []store.Zone
	now := time.Now()
	for i := range n {
		name := fmt.Sprintf("site%06d.example", i)
		text := fakeda.Zone(name, 1)
		z, err := zone.Parse(zone.Name(name), []byte(text), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		da.AddLocal(name, "user", text)
		batch = append(batch, store.Zone{Name: name, Canonical: z.Text(), Original: text, Hash: z.Hash(), Serial: 1,
			Version: 1, OwnerHost: "127.0.0.1", OwnerUser: "user", Created: now, Updated: now})
		if len(batch) == 500 || i == n-1 {
			if err := st.Import(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	t.Logf("%d zones in the store and on the fake DA in %s", n, time.Since(start).Round(time.Millisecond))
	svc := push.New(push.Options{Store: st, Logger: quiet()})
	var out []string
	for round, check := range []string{config.SerialCheckHTTP, config.SerialCheckDNS} {
		changed := 0
		for i := 0; i < n; i += 100 { // 1% changed on DA since the last push
			name := fmt.Sprintf("site%06d.example", i)
			da.AddLocal(name, "user", fakeda.Zone(name, uint32(2+round)))
			changed++
		}
		cfg := config.DirectAdminServer{Hostname: "127.0.0.1", Port: da.Port, Username: "admin", Password: "secret",
			SerialCheck: check, DNSAddress: da.DNSAddr()}
		r := reconcile.New(ctx, reconcile.Options{Store: st, Push: svc, Servers: []config.DirectAdminServer{cfg},
			IPP: 1000, MaxDeleteFraction: 0.1, Backends: []string{"builtin"}, Logger: quiet()})
		peak, allocated, wall, rep := measurePass(t, r)
		if rep.Applied[reconcile.Fetch] != changed || rep.Failed != 0 || rep.Error != "" {
			t.Errorf("%d zones, %s: %d of %d changed zones repaired; failed %d; %s", n, check, rep.Applied[reconcile.Fetch], changed, rep.Failed, rep.Error)
		}
		s := rep.Servers[0]
		t.Logf("%d zones, serial_check %s: %s; requests %v; cost %+v", n, check, wall.Round(time.Millisecond), s.Requests, s.ServerCost)
		out = append(out, fmt.Sprintf("| %d | %s | %.1f | %d | %d | %d | %d | %d | %d | %.0f | %.0f |", n, check, wall.Seconds(),
			s.Requests["/CMD_DNS_ADMIN"], s.Requests["/CMD_API_DOMAIN_OWNERS"], s.Requests["/CMD_API_DNS_ADMIN"],
			s.DNSQueries, s.Texts, rep.Applied[reconcile.Fetch], float64(peak)/(1<<20), float64(allocated)/(1<<20)))
		if others := slices.DeleteFunc(slices.Collect(maps.Keys(s.Requests)), func(p string) bool {
			return p == "/CMD_DNS_ADMIN" || p == "/CMD_API_DOMAIN_OWNERS" || p == "/CMD_API_DNS_ADMIN"
		}); len(others) > 0 {
			t.Logf("other requests: %v", others)
		}
	}
	return out
}

// measurePass runs one pass and returns the heap's peak over what it was
// before (after a GC), the bytes allocated, and the wall time.
func measurePass(t *testing.T, r *reconcile.Reconciler) (peak, allocated uint64, wall time.Duration, rep reconcile.Report) {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	read := func() (heap, allocs uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64()
	}
	runtime.GC()
	base, alloc0 := read()
	var top atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		own := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(own)
			if h := own[0].Value.Uint64(); h > top.Load() {
				top.Store(h)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	rep, _, err := r.RunOnce(context.Background(), false)
	wall = time.Since(start)
	close(done)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}
	_, alloc1 := read()
	if top.Load() > base {
		peak = top.Load() - base
	}
	return peak, alloc1 - alloc0, wall, rep
}
