package builtin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/testutil/hostingzone"
	"github.com/dadns/dadns/internal/zone"
)

// daZones parses n DirectAdmin-shaped zones.
func daZones(tb testing.TB, n int) []*zone.Zone {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]*zone.Zone, n)
	for i := range out {
		name := zone.Name(fmt.Sprintf("site%d.example", i))
		z, err := zone.Parse(name, []byte(hostingzone.Text(rng, string(name))), zone.Limits{})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = z
	}
	return out
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestFootprint reports what the builtin backend holds for
// DADNS_FOOTPRINT (e.g. 10000) DirectAdmin-shaped zones: the live heap
// once the parsed zones are gone, per zone and per record, and what a
// second builtin instance with the same zones adds. It reports, it does
// not assert sizes (they depend on the Go runtime).
func TestFootprint(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DADNS_FOOTPRINT"))
	if n <= 0 {
		t.Skip("set DADNS_FOOTPRINT=zones to measure")
	}
	base := heapInUse()
	zs := daZones(t, n)
	records := 0
	for _, z := range zs {
		records += len(z.Records)
	}
	parsed := heapInUse() - base
	b1 := New(dnsserver.New(dnsserver.Options{Logger: quiet()}))
	if err := b1.Apply(context.Background(), zs); err != nil {
		t.Fatal(err)
	}
	withOne := heapInUse() - base
	b2 := New(dnsserver.New(dnsserver.Options{Logger: quiet()}))
	if err := b2.Apply(context.Background(), zs); err != nil {
		t.Fatal(err)
	}
	withTwo := heapInUse() - base
	zs = nil
	held := heapInUse() - base
	if f := os.Getenv("DADNS_MEMPROFILE"); f != "" {
		w, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := pprofHeap(w); err != nil {
			t.Fatal(err)
		}
	}
	mib := func(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	t.Logf("%d zones, %d records: parsed zones %s; + 1 builtin %s; + 2nd builtin %s; held by the 2 builtins alone %s = %d bytes/record",
		n, records, mib(parsed), mib(withOne), mib(withTwo), mib(held), held/uint64(records))
	// Under queries: every zone asked a name that exists and one that
	// does not (decoded on demand, a bounded number kept decoded; the
	// answers cached up to the cache bound).
	for i := range n {
		for _, name := range []string{"www", "nope-" + strconv.Itoa(i)} {
			if _, err := b1.Server().Ask(fmt.Sprintf("%s.site%d.example", name, i), "A"); err != nil {
				t.Fatal(err)
			}
		}
	}
	queried := heapInUse() - base
	t.Logf("after 2 queries to each zone of one builtin: %s = %d bytes/record", mib(queried), queried/uint64(records))
	debug.FreeOSMemory()
	t.Logf("process: %s (VmHWM includes parsing all the zones at once)", procStatus("VmRSS", "VmHWM"))
	runtime.KeepAlive(b1)
	runtime.KeepAlive(b2)
}

// TestTwoBackendsShareZones checks that a second builtin backend given
// the same zones does not hold them again: the zones are packed once per
// process (dnsserver shares them by origin and content hash), so the
// second backend adds only its own bookkeeping, a small fraction of what
// the first one holds.
func TestTwoBackendsShareZones(t *testing.T) {
	zs := daZones(t, 2000)
	base := heapInUse()
	b1 := New(dnsserver.New(dnsserver.Options{Logger: quiet()}))
	if err := b1.Apply(context.Background(), zs); err != nil {
		t.Fatal(err)
	}
	first := int64(heapInUse()) - int64(base)
	b2 := New(dnsserver.New(dnsserver.Options{Logger: quiet()}))
	if err := b2.Apply(context.Background(), zs); err != nil {
		t.Fatal(err)
	}
	second := int64(heapInUse()) - int64(base) - first
	t.Logf("first backend holds %d bytes, the second adds %d", first, second)
	if first <= 0 || second*4 > first {
		t.Fatalf("the second backend adds %d bytes to the first's %d: the zones are held twice", second, first)
	}
	for _, z := range zs[:20] {
		got, err := b2.Zone(context.Background(), z.Name)
		if err != nil || got.Text() != z.Text() {
			t.Fatalf("%s reads back from the second backend as %v, %v", z.Name, got, err)
		}
	}
	runtime.KeepAlive(zs)
	runtime.KeepAlive(b1)
}

// procStatus returns the named lines of /proc/self/status.
func procStatus(keys ...string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		for _, k := range keys {
			if strings.HasPrefix(line, k+":") {
				out = append(out, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	return strings.Join(out, ", ")
}
