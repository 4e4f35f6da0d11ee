package reconcile_test

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
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
// that each pass repaired the changed zones. The fake DA runs in a child
// process, so the heap figures are the pass's own. Run with -v:
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
	fmt.Println("\n| zones | serial_check | pass s | list / DNS / texts s | apply s | list pages | owners | zone texts | DNS questions | fetched | peak live heap MiB | peak heap in use MiB | allocated MiB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
}

// scaleZone is the i-th zone of the measurement.
func scaleZone(i int) string { return fmt.Sprintf("site%06d.example", i) }

// TestScaleFakeDA is the fake DA of TestReconcileScale, run in a child
// process (the test binary again) so the pass's heap is measured alone.
// It holds DADNS_RECONCILE_FAKEDA zones, prints its addresses, then on
// each "bump <serial>" line from stdin sets 1% of the zones to that serial.
func TestScaleFakeDA(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("DADNS_RECONCILE_FAKEDA"))
	if err != nil {
		t.Skip("the fake DA of TestReconcileScale")
	}
	da := fakeda.Start(t, fakeda.Options{})
	for i := range n {
		da.AddLocal(scaleZone(i), "user", fakeda.Zone(scaleZone(i), 1))
	}
	fmt.Printf("fakeda %d %s\n", da.Port, da.DNSAddr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var serial uint32
		if _, err := fmt.Sscanf(sc.Text(), "bump %d", &serial); err != nil {
			t.Fatalf("fake DA: %q: %v", sc.Text(), err)
		}
		for i := 0; i < n; i += 100 {
			da.AddLocal(scaleZone(i), "user", fakeda.Zone(scaleZone(i), serial))
		}
		runtime.GC()
		fmt.Println("bumped")
	}
}

// childDA runs TestScaleFakeDA with n zones; bump sets 1% of them to serial.
func childDA(t *testing.T, n int) (port int, dnsAddr string, bump func(serial uint32)) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestScaleFakeDA$", "-test.v", "-test.timeout=50m")
	cmd.Env = append(os.Environ(), "DADNS_RECONCILE_FAKEDA="+strconv.Itoa(n), "DADNS_RECONCILE_SCALE=")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait(); cancel() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(outPipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("fake DA child ended")
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-time.After(10 * time.Minute):
				t.Fatalf("fake DA child: no %q line in 10 minutes", prefix)
			}
		}
	}
	if _, err := fmt.Sscanf(next("fakeda "), "fakeda %d %s", &port, &dnsAddr); err != nil {
		t.Fatal(err)
	}
	return port, dnsAddr, func(serial uint32) {
		fmt.Fprintf(in, "bump %d\n", serial)
		next("bumped")
	}
}

func measureScale(t *testing.T, n int) []string {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	port, dnsAddr, bump := childDA(t, n)
	var batch []store.Zone
	now := time.Now()
	for i := range n {
		name := scaleZone(i)
		text := fakeda.Zone(name, 1)
		z, err := zone.Parse(zone.Name(name), []byte(text), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
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
	t.Logf("%d zones: Store.List's rows hold %.1f MiB of heap", n, float64(listHeap(t, st))/(1<<20))
	svc := push.New(push.Options{Store: st, Logger: quiet()})
	var out []string
	for round, check := range []string{config.SerialCheckHTTP, config.SerialCheckDNS} {
		bump(uint32(2 + round)) // 1% changed on DA since the last push
		changed := (n + 99) / 100
		cfg := config.DirectAdminServer{Hostname: "127.0.0.1", Port: port, Username: "admin", Password: "secret",
			SerialCheck: check, DNSAddress: dnsAddr}
		r := reconcile.New(ctx, reconcile.Options{Store: st, Push: svc, Servers: []config.DirectAdminServer{cfg},
			IPP: 1000, MaxDeleteFraction: 0.1, Backends: []string{"builtin"}, Logger: quiet()})
		mem, wall, rep := measurePass(t, r)
		if rep.Applied[reconcile.Fetch] != changed || rep.Failed != 0 || rep.Error != "" {
			t.Errorf("%d zones, %s: %d of %d changed zones repaired; failed %d; %s; servers %+v", n, check, rep.Applied[reconcile.Fetch], changed, rep.Failed, rep.Error, rep.Servers)
		}
		s := rep.Servers[0]
		t.Logf("%d zones, serial_check %s: %s (plan %.1f s: store %.1f s, decide %.1f s; apply %.1f s); requests %v; cost %+v", n, check, wall.Round(time.Millisecond),
			rep.PlanSeconds, rep.StoreSeconds, rep.DecideSeconds, rep.ApplySeconds, s.Requests, s.ServerCost)
		mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
		out = append(out, fmt.Sprintf("| %d | %s | %.1f | %.1f / %.1f / %.1f | %.1f | %d | %d | %d | %d | %d | %.0f | %.0f | %.0f |",
			n, check, wall.Seconds(), s.ListSeconds, s.DNSSeconds, s.TextSeconds, rep.ApplySeconds,
			s.Requests["/CMD_DNS_ADMIN"], s.Requests["/CMD_API_DOMAIN_OWNERS"], s.Requests["/CMD_API_DNS_ADMIN"],
			s.DNSQueries, rep.Applied[reconcile.Fetch], mib(mem.peakLive), mib(mem.peakInUse), mib(mem.allocated)))
		if others := slices.DeleteFunc(slices.Collect(maps.Keys(s.Requests)), func(p string) bool {
			return p == "/CMD_DNS_ADMIN" || p == "/CMD_API_DOMAIN_OWNERS" || p == "/CMD_API_DNS_ADMIN"
		}); len(others) > 0 {
			t.Logf("other requests: %v", others)
		}
	}
	return out
}

// passMem is what the heap did during one pass.
type passMem struct {
	peakInUse uint64 // peak of heap objects (live and not yet swept) over the level before
	peakLive  uint64 // peak of the live heap found by a GC during the pass, over the live heap before
	allocated uint64 // bytes allocated during the pass
}

// measurePass runs one pass and returns its heap figures and wall time.
func measurePass(t *testing.T, r *reconcile.Reconciler) (passMem, time.Duration, reconcile.Report) {
	names := []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes", "/gc/heap/allocs:bytes"}
	read := func() [3]uint64 {
		samples := make([]metrics.Sample, len(names))
		for i, n := range names {
			samples[i].Name = n
		}
		metrics.Read(samples)
		var out [3]uint64
		for i := range samples {
			out[i] = samples[i].Value.Uint64()
		}
		return out
	}
	runtime.GC()
	base := read()
	var topInUse, topLive atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			v := read()
			if v[0] > topInUse.Load() {
				topInUse.Store(v[0])
			}
			if v[1] > topLive.Load() {
				topLive.Store(v[1])
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
	wall := time.Since(start)
	close(done)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}
	end := read()
	over := func(v, b uint64) uint64 {
		if v > b {
			return v - b
		}
		return 0
	}
	return passMem{peakInUse: over(topInUse.Load(), base[0]), peakLive: over(topLive.Load(), base[1]), allocated: end[2] - base[2]}, wall, rep
}

// listHeap is the live heap Store.List's result holds: what a store
// streaming its rows (reconcile.LiveStreamer) saves a pass at its peak.
func listHeap(t *testing.T, st store.Store) uint64 {
	live := func() uint64 {
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := live()
	rows, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after := live()
	runtime.KeepAlive(rows)
	if after < before {
		return 0
	}
	return after - before
}
