package builtin

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/zone"
)

// daZoneText renders zone i the way DirectAdmin writes it (the shape the
// bench generates: SOA, 2 NS, 4 A, 4 AAAA, a wildcard, MX, SPF, DMARC,
// a 2048-bit DKIM key, CAA, SRV: 18 records).
func daZoneText(rng *rand.Rand, name string) string {
	v4 := fmt.Sprintf("192.0.2.%d", 1+rng.IntN(254))
	v6 := fmt.Sprintf("2001:db8:%x::%x", rng.IntN(0x10000), 1+rng.IntN(0xfffe))
	key := make([]byte, 294)
	for i := range key {
		key[i] = byte(rng.UintN(256))
	}
	dkim := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(key)
	var chunks []string
	for len(dkim) > 180 {
		chunks = append(chunks, `"`+dkim[:180]+`"`)
		dkim = dkim[180:]
	}
	chunks = append(chunks, `"`+dkim+`"`)
	apex := name + "."
	var b strings.Builder
	fmt.Fprintf(&b, "$TTL 3600\n@\tIN\tSOA\tns1.hostco.example.\thostmaster.%s ( %d 3600 3600 1209600 86400 )\n", apex, 2026010100+rng.IntN(99))
	fmt.Fprintf(&b, "%s\t3600\tIN\tNS\tns1.hostco.example.\n%s\t3600\tIN\tNS\tns2.hostco.example.\n", apex, apex)
	for _, o := range []string{apex, "ftp", "mail", "www"} {
		fmt.Fprintf(&b, "%s\t3600\tIN\tA\t%s\n%s\t3600\tIN\tAAAA\t%s\n", o, v4, o, v6)
	}
	fmt.Fprintf(&b, "*\t3600\tIN\tA\t%s\n", v4)
	fmt.Fprintf(&b, "%s\t3600\tIN\tMX\t10 mail\n", apex)
	fmt.Fprintf(&b, "%s\t3600\tIN\tTXT\t\"v=spf1 a mx ip4:%s ip6:%s ~all\"\n", apex, v4, v6)
	fmt.Fprintf(&b, "_dmarc\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine; rua=mailto:dmarc@%s\"\n", name)
	fmt.Fprintf(&b, "x._domainkey\t3600\tIN\tTXT\t( %s )\n", strings.Join(chunks, " "))
	fmt.Fprintf(&b, "%s\t3600\tIN\tCAA\t0 issue \"letsencrypt.org\"\n", apex)
	fmt.Fprintf(&b, "_sip._tcp\t3600\tIN\tSRV\t10 60 5060 mail.%s\n", apex)
	return b.String()
}

// daZones parses n DirectAdmin-shaped zones.
func daZones(tb testing.TB, n int) []*zone.Zone {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]*zone.Zone, n)
	for i := range out {
		name := zone.Name(fmt.Sprintf("site%d.example", i))
		z, err := zone.Parse(name, []byte(daZoneText(rng, string(name))), zone.Limits{})
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
