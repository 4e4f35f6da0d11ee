package api

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store/sqlite"
)

// rawsave sends one push from its own client (safe for concurrent use) and
// returns the HTTP status and the reply's error field.
func (h *harness) rawsave(domain, body string) (int, string, error) {
	q := url.Values{"action": {"rawsave"}, "domain": {domain}, "hostname": {"da1.example.net"}}
	req, err := http.NewRequest("POST", h.srv.URL+"/CMD_API_DNS_ADMIN?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.SetBasicAuth(testUser, testPass)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	v, err := url.ParseQuery(string(raw))
	return resp.StatusCode, v.Get("error"), err
}

// concurrentWakes counts the dispatcher wake-ups of concurrent pushes
// (the harness's own counter is for one push at a time).
func concurrentWakes(_ *Options, p *push.Options) {
	var n atomic.Int64
	p.Changed = func() { n.Add(1) }
}

// bigZone is a zone of n A records: too big for a store capped at 256 KiB
// when n is a few thousand.
func bigZone(origin string, n int) string {
	var b strings.Builder
	b.WriteString(minimalZone(origin, 1))
	for i := range n {
		fmt.Fprintf(&b, "h%d IN A 192.0.2.%d\n", i, i%250+1)
	}
	return b.String()
}

// TestFailedGroupCommitFailsOnlyItsPushes pushes small zones and zones too
// big for a capped store at the same time, so that they share group
// commits: each zone that does not fit is answered error=1 and not stored;
// every push answered error=0 is stored; the store goes on taking pushes.
func TestFailedGroupCommitFailsOnlyItsPushes(t *testing.T) {
	h := newHarnessOn(t, sqlite.Options{MaxSizeBytes: 256 << 10}, concurrentWakes)
	type result struct {
		domain string
		big    bool
		code   int
		errf   string
		err    error
	}
	const small, big = 24, 3
	results := make([]result, small+big)
	var wg sync.WaitGroup
	for i := range results {
		r := &results[i]
		r.big = i%9 == 4 && i/9 < big
		r.domain = fmt.Sprintf("small%d.example", i)
		body := minimalZone(r.domain, 7)
		if r.big {
			r.domain = fmt.Sprintf("big%d.example", i)
			body = bigZone(r.domain, 6000)
		}
		wg.Go(func() { r.code, r.errf, r.err = h.rawsave(r.domain, body) })
	}
	wg.Wait()
	bigs := 0
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.domain, r.err)
		}
		z, stored := h.get(r.domain)
		switch {
		case r.big:
			bigs++
			if r.errf != "1" || stored {
				t.Errorf("%s (too big): HTTP %d error=%s, stored %v", r.domain, r.code, r.errf, stored)
			}
		case r.errf != "0":
			t.Errorf("%s (small) refused: HTTP %d error=%s", r.domain, r.code, r.errf)
		case !stored || z.Serial != 7:
			t.Errorf("%s acknowledged but not stored: %+v", r.domain, z)
		}
	}
	if bigs != big {
		t.Fatalf("%d big zones pushed, want %d", bigs, big)
	}
	h.push("after.example", "da1.example.net", "", minimalZone("after.example", 1))
}

// TestConcurrentRawsavesOfOneZone pushes one zone 16 times at once with 16
// serials: every push is acknowledged, each is stored as its own version,
// and the zone ends with one of the pushed serials at the last version.
func TestConcurrentRawsavesOfOneZone(t *testing.T) {
	h := newHarness(t, concurrentWakes)
	const n = 16
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, e, err := h.rawsave("same.example", minimalZone("same.example", 100+i))
			if err != nil {
				t.Error(err)
			}
			codes[i] = e
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != "0" {
			t.Fatalf("push %d: error=%s", i, c)
		}
	}
	z, ok := h.get("same.example")
	if !ok || z.Version != n || z.Serial < 100 || z.Serial >= 100+n {
		t.Fatalf("after %d pushes: %+v", n, z)
	}
}
