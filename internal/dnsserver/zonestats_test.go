package dnsserver

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// countedServer serves a.test., sub.a.test. (a child zone) and b.test.
// on 127.0.0.1 with per-zone counts on.
func countedServer(t *testing.T, opt Options) (*Server, int) {
	t.Helper()
	opt.Logger = quietLogger()
	opt.ZoneCounts = true
	s := New(opt)
	var set []*Zone
	for _, o := range []string{"a.test.", "sub.a.test.", "b.test."} {
		set = append(set, mustZone(t, o, fmt.Sprintf(`$TTL 300
@ SOA ns.%[1]s h.%[1]s 1 3600 600 86400 300
@ NS ns
ns A 192.0.2.250
www A 192.0.2.2
`, o)))
	}
	if failed := s.Apply(set, nil); failed != nil {
		t.Fatal(failed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	udp, _, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return s, udp.(*net.UDPAddr).Port
}

// askRcode asks name/A over net ("udp" or "tcp") and returns the rcode.
func askRcode(t *testing.T, c *dns.Client, port int, name string) int {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	r, _, err := c.Exchange(q, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("%s %s: %v", c.Net, name, err)
	}
	return r.Rcode
}

func TestZoneCountsExact(t *testing.T) {
	s, port := countedServer(t, Options{})
	udp := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	tcp := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	// a.test.: 30 answers (the fast path after the first, mixed case)
	// and 10 NXDOMAIN; sub.a.test.: 7 over TCP, 3 NXDOMAIN over UDP;
	// b.test.: 5; outside every zone: 4 (REFUSED).
	for i := range 30 {
		name := "www.a.test."
		if i%2 == 1 {
			name = "WwW.A.TeSt."
		}
		if rc := askRcode(t, udp, port, name); rc != dns.RcodeSuccess {
			t.Fatalf("rcode %d", rc)
		}
	}
	for i := range 10 {
		if rc := askRcode(t, udp, port, fmt.Sprintf("nx%d.a.test.", i)); rc != dns.RcodeNameError {
			t.Fatalf("rcode %d", rc)
		}
	}
	for range 7 {
		askRcode(t, tcp, port, "www.sub.a.test.")
	}
	for i := range 3 {
		askRcode(t, udp, port, fmt.Sprintf("nx%d.sub.a.test.", i))
	}
	for range 5 {
		askRcode(t, udp, port, "b.test.")
	}
	for range 4 {
		if rc := askRcode(t, udp, port, "www.elsewhere.example."); rc != dns.RcodeRefused {
			t.Fatalf("rcode %d", rc)
		}
	}
	got, ok := s.ZoneTraffic(2)
	if !ok {
		t.Fatal("no zone counts")
	}
	want := ZoneTraffic{Zones: 3, Queries: 55, NXDomain: 13, Unmatched: 4,
		Top: []ZoneQueries{
			{Zone: "a.test.", Queries: 40, NXDomain: 10, NXDomainShare: 0.25},
			{Zone: "sub.a.test.", Queries: 10, NXDomain: 3, NXDomainShare: 0.3},
		},
		TopNXDomain: []ZoneQueries{
			{Zone: "a.test.", Queries: 40, NXDomain: 10, NXDomainShare: 0.25},
			{Zone: "sub.a.test.", Queries: 10, NXDomain: 3, NXDomainShare: 0.3},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// Reading changes nothing; all zones with answers are listed.
	again, _ := s.ZoneTraffic(2)
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("second read differs: %+v", again)
	}
	all, _ := s.ZoneTraffic(10)
	if len(all.Top) != 3 || all.Top[2] != (ZoneQueries{Zone: "b.test.", Queries: 5}) || len(all.TopNXDomain) != 2 {
		t.Fatalf("top 10: %+v", all)
	}
}

func TestZoneCountsFollowApply(t *testing.T) {
	s := New(Options{Logger: quietLogger(), ZoneCounts: true})
	s.Apply([]*Zone{versionZone(t, 1)}, nil)
	for range 3 {
		ask(t, s, "example.test.", dns.TypeA)
	}
	ask(t, s, "nope.example.test.", dns.TypeA)
	// New content keeps the counts.
	s.Apply([]*Zone{versionZone(t, 2)}, nil)
	ask(t, s, "example.test.", dns.TypeA)
	got, _ := s.ZoneTraffic(0)
	if len(got.Top) != 1 || got.Top[0].Queries != 5 || got.Top[0].NXDomain != 1 {
		t.Fatalf("after a new version: %+v", got)
	}
	// Removal drops the counter; serving it again starts from zero.
	s.Apply(nil, []string{"example.test."})
	if got, _ := s.ZoneTraffic(0); got.Zones != 0 || len(got.Top) != 0 {
		t.Fatalf("after removal: %+v", got)
	}
	s.Apply([]*Zone{versionZone(t, 3)}, nil)
	if got, _ := s.ZoneTraffic(0); got.Zones != 1 || len(got.Top) != 0 {
		t.Fatalf("served again: %+v", got)
	}
	if _, ok := New(Options{Logger: quietLogger()}).ZoneTraffic(0); ok {
		t.Fatal("counts reported with ZoneCounts off")
	}
}

// TestZoneCountsBounded: the table holds one counter per served zone,
// whatever is asked, and 100,000 zones fit in a few MiB.
func TestZoneCountsBounded(t *testing.T) {
	s := New(Options{Logger: quietLogger(), ZoneCounts: true})
	var set []*Zone
	for i := range 200 {
		o := fmt.Sprintf("z%d.example.", i)
		set = append(set, mustZone(t, o, "$TTL 60\n@ SOA ns1 h 1 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n"))
	}
	s.Apply(set, nil)
	for i := range 20000 {
		ask(t, s, fmt.Sprintf("r%d.z%d.example.", i, i%400), dns.TypeA) // half in no zone
	}
	if n := s.zstats.size(); n != 200 {
		t.Fatalf("table holds %d counters, want 200 (one per zone)", n)
	}
	got, _ := s.ZoneTraffic(5)
	if got.Queries != 10000 || got.NXDomain != 10000 || got.Unmatched != 10000 || len(got.Top) != 5 || got.Top[0].Queries != 50 {
		t.Fatalf("%+v", got)
	}

	// 100,000 zones: measure what the table costs.
	z := newZoneStats()
	big := make([]*Zone, 100_000)
	for i := range big {
		big[i] = &Zone{Origin: fmt.Sprintf("customer-domain-%06d.example.", i)}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	z.apply(big, nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if z.size() != 100_000 {
		t.Fatalf("size %d", z.size())
	}
	perZone := float64(after.HeapAlloc-before.HeapAlloc) / 100_000
	t.Logf("100,000 zones: %.0f bytes per zone in the count table (origin strings included)", perZone)
	if perZone > 400 {
		t.Errorf("%.0f bytes per zone", perZone)
	}
	start := time.Now()
	s.zstats = z
	if _, ok := s.ZoneTraffic(20); !ok {
		t.Fatal("no traffic")
	}
	t.Logf("top 20 of 100,000 zones read in %v", time.Since(start))
	runtime.KeepAlive(big)
}

// BenchmarkZoneCount measures the hook's per-zone count of one reply
// (a three-label name in a table of 100,000 zones).
func BenchmarkZoneCount(b *testing.B) {
	z := newZoneStats()
	big := make([]*Zone, 100_000)
	for i := range big {
		big[i] = &Zone{Origin: fmt.Sprintf("customer-domain-%06d.example.", i)}
	}
	z.apply(big, nil)
	q := new(dns.Msg)
	q.SetQuestion("WWW.customer-domain-004242.example.", dns.TypeA)
	reply, _ := q.Pack()
	scratch := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		scratch = z.count(reply, scratch)
	}
}
