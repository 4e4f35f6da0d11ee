package api

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dadns/dadns/internal/testutil/hostingzone"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// BenchmarkRawsave measures the push path end to end in one process: HTTP,
// auth, parse, store commit (group commit across the parallel pushers).
func BenchmarkRawsave(b *testing.B) {
	h := newHarness(b, nil).srv
	var n atomic.Int64
	b.SetParallelism(benchParallelism())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{}
		for pb.Next() {
			i := n.Add(1)
			name := fmt.Sprintf("bench%07d.example", i)
			if !benchPush(b, client, h.URL, name, minimalZone(name, int(i))) {
				return
			}
		}
	})
}

// benchParallelism is goroutines per GOMAXPROCS for BenchmarkRawsave:
// DADNS_BENCH_PARALLELISM, default 8.
func benchParallelism() int {
	if n, err := strconv.Atoi(os.Getenv("DADNS_BENCH_PARALLELISM")); err == nil && n > 0 {
		return n
	}
	return 8
}

// BenchmarkRawsaveHosting is BenchmarkRawsave with what DirectAdmin sends:
// a hosting zone of 18 records with a 2048-bit DKIM key, each push on a new
// connection. It reports the process's CPU per push (server and client).
func BenchmarkRawsaveHosting(b *testing.B) {
	h := newHarness(b, nil).srv
	rng := rand.New(rand.NewPCG(14, 14))
	const distinct = 512
	texts := make([]string, distinct)
	for i := range texts {
		texts[i] = hostingzone.Text(rng, "site.example")
	}
	var n atomic.Int64
	b.SetParallelism(benchParallelism())
	b.ReportAllocs()
	cpu0, started0 := procstat.SelfCPU(), goroutinesCreated()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for pb.Next() {
			i := n.Add(1)
			name := fmt.Sprintf("bench%07d.example", i)
			body := strings.ReplaceAll(texts[int(i)%distinct], "site.example", name)
			if !benchPush(b, client, h.URL, name, body) {
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((procstat.SelfCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/push")
	b.ReportMetric(float64(goroutinesCreated()-started0)/float64(b.N), "goroutines/push")
}

// goroutinesCreated is how many goroutines this process has started.
func goroutinesCreated() uint64 {
	m := []rtmetrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	rtmetrics.Read(m)
	if m[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return m[0].Value.Uint64()
}

// benchPush sends one rawsave of name with body; false (and the
// benchmark failed) when it was not accepted.
func benchPush(b *testing.B, client *http.Client, base, name, body string) bool {
	req, _ := http.NewRequest("POST", base+"/CMD_API_DNS_ADMIN?action=rawsave&domain="+name+"&hostname=da1", strings.NewReader(body))
	req.SetBasicAuth(testUser, testPass)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Errorf("HTTP %d", resp.StatusCode)
		return false
	}
	return true
}
