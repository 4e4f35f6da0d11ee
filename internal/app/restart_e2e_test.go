package app

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// restartZones is how many zones the restart test holds: enough that
// loading them takes a visible time on a small machine.
const restartZones = 3000

// TestRestartNeverRefusesHeldZones restarts dadns holding thousands of
// zones while a client asks for them without pause from before the
// process starts: no question about a held zone may be answered REFUSED,
// and /readyz may say ready only once every zone is served.
func TestRestartNeverRefusesHeldZones(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n1 := startNode(t, dir, httpPort, dnsPort)
	want := pushZones(t, n1, "held", restartZones, 2026120601)
	names := sortedNames(want)
	waitSOASerial(t, n1.dnsAddr, names[len(names)-1], 2026120601)
	n1.kill()

	q := startAsker(n1.dnsAddr, names)
	defer q.stop()
	rw := startReadyWatcher(n1.httpURL)
	defer rw.stop()
	start := time.Now()
	n2 := startNode(t, dir, httpPort, dnsPort)
	readyAt := rw.waitReady(t, 60*time.Second)
	if missing := unserved(n2.dnsAddr, names, 2026120601); len(missing) > 0 {
		t.Errorf("/readyz said ready while %d held zones were not served, e.g. %s", len(missing), missing[0])
	}
	q.stop()
	asked, answered, refused, firstOK, example := q.result()
	t.Logf("%d zones: first answer %.2fs after start, ready %.2fs; %d questions asked while restarting, %d answered, %d REFUSED; /readyz: %s",
		restartZones, firstOK.Sub(start).Seconds(), readyAt.Sub(start).Seconds(), asked, answered, refused, rw.summary())
	if refused > 0 {
		t.Errorf("%d questions about held zones answered REFUSED during the restart, e.g. %s", refused, example)
	}
	if answered == 0 {
		t.Errorf("no question answered during the restart: the test saw nothing")
	}
	if got := liveNames(t, filepath.Join(dir, "data", "dadns.db")); len(got) == 0 {
		t.Error("store lost its zones")
	}
}

func sortedNames(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for i := range len(m) {
		out = append(out, fmt.Sprintf("held%d.example", i))
	}
	return out
}

// unserved asks for every zone's SOA and returns those not answered
// authoritatively with serial.
func unserved(addr string, names []string, serial uint32) []string {
	var mu sync.Mutex
	var missing []string
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Timeout: 2 * time.Second}
			for i := int(next.Add(1)) - 1; i < len(names); i = int(next.Add(1)) - 1 {
				if got, err := askSOA(c, addr, names[i]); err != nil || got != serial {
					mu.Lock()
					missing = append(missing, fmt.Sprintf("%s (%v)", names[i], err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return missing
}

// askSOA returns the serial a server answers for name's SOA; an error
// for anything but an authoritative answer.
func askSOA(c *dns.Client, addr, name string) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		return 0, fmt.Errorf("rcode %s, aa %v, %d answers", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
	}
	soa, ok := r.Answer[0].(*dns.SOA)
	if !ok {
		return 0, fmt.Errorf("answer is %T", r.Answer[0])
	}
	return soa.Serial, nil
}

// asker asks for held zones' SOA in a loop from two goroutines until
// stopped, counting answers and REFUSED.
type asker struct {
	done     chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
	mu       sync.Mutex
	asked    int
	answered int
	refused  int
	firstOK  time.Time
	example  string
}

func startAsker(addr string, names []string) *asker {
	q := &asker{done: make(chan struct{})}
	for w := range 2 {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			c := &dns.Client{Timeout: 250 * time.Millisecond}
			for i := w; ; i += 2 {
				select {
				case <-q.done:
					return
				default:
				}
				q.ask(c, addr, names[i%len(names)])
			}
		}()
	}
	return q
}

func (q *asker) ask(c *dns.Client, addr, name string) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		time.Sleep(2 * time.Millisecond) // port closed: not started yet
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.asked++
	switch {
	case r.Rcode == dns.RcodeRefused:
		q.refused++
		if q.example == "" {
			q.example = name
		}
	case r.Rcode == dns.RcodeSuccess && r.Authoritative:
		q.answered++
		if q.firstOK.IsZero() {
			q.firstOK = time.Now()
		}
	}
}

func (q *asker) stop() {
	q.once.Do(func() { close(q.done) })
	q.wg.Wait()
}

func (q *asker) result() (asked, answered, refused int, firstOK time.Time, example string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.asked, q.answered, q.refused, q.firstOK, q.example
}

// readyWatcher polls /readyz until stopped and remembers what it saw.
type readyWatcher struct {
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	mu      sync.Mutex
	codes   map[int]int
	readyAt time.Time
}

func startReadyWatcher(baseURL string) *readyWatcher {
	rw := &readyWatcher{done: make(chan struct{}), codes: map[int]int{}}
	rw.wg.Add(1)
	go func() {
		defer rw.wg.Done()
		c := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-rw.done:
				return
			default:
			}
			req, _ := http.NewRequest("GET", baseURL+"/readyz", nil)
			req.SetBasicAuth("da", e2ePass)
			resp, err := c.Do(req)
			if err != nil {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			resp.Body.Close()
			rw.mu.Lock()
			rw.codes[resp.StatusCode]++
			if resp.StatusCode == http.StatusOK && rw.readyAt.IsZero() {
				rw.readyAt = time.Now()
				rw.mu.Unlock()
				return // the test checks the zones now
			}
			rw.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return rw
}

// waitReady waits until /readyz said 200, and returns when it first did.
func (rw *readyWatcher) waitReady(t *testing.T, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		rw.mu.Lock()
		at := rw.readyAt
		rw.mu.Unlock()
		if !at.IsZero() {
			return at
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("/readyz never said ready within %v: %s", within, rw.summary())
	return time.Time{}
}

func (rw *readyWatcher) summary() string {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return fmt.Sprintf("%d × 503, %d × 200", rw.codes[http.StatusServiceUnavailable], rw.codes[http.StatusOK])
}

func (rw *readyWatcher) stop() {
	rw.once.Do(func() { close(rw.done) })
	rw.wg.Wait()
}
