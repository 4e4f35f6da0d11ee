package api

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
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
			req, _ := http.NewRequest("POST", h.URL+"/CMD_API_DNS_ADMIN?action=rawsave&domain="+name+"&hostname=da1", strings.NewReader(minimalZone(name, int(i))))
			req.SetBasicAuth(testUser, testPass)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("HTTP %d", resp.StatusCode)
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
