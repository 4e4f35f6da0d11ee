package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/zone"
)

// The reliability suite runs real dadns processes (see TestMain in
// e2e_test.go) and prints its counts as "crash: ..." / "ordering: ..."
// summary lines.

// daClient is an HTTP client for a node that may be killed: bounded, and
// never reusing a connection to a dead process for long.
func daClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

// outcome is what a pusher learnt about one request.
type outcome int

const (
	acked   outcome = iota // HTTP 200, error=0: durable, per the guarantee
	refused                // a reply with error=1: must not be applied
	unknown                // no reply (the node was killed): applied or not
)

// daOp is one DirectAdmin request of a test: a rawsave (serial > 0, body)
// or a delete (serial 0).
type daOp struct {
	zone       string
	serial     uint32
	body       string
	out        outcome
	start, end time.Time // around the request, for real-time order
}

// send performs op against baseURL and classifies the reply.
func (op *daOp) send(c *http.Client, baseURL string) error {
	var req *http.Request
	var err error
	if op.serial > 0 {
		q := url.Values{"action": {"rawsave"}, "domain": {op.zone}, "hostname": {"da1.example"}, "username": {"u"}}
		req, err = http.NewRequest("POST", baseURL+"/CMD_API_DNS_ADMIN?"+q.Encode(), strings.NewReader(op.body))
	} else {
		form := url.Values{"action": {"delete"}, "cluster": {"yes"}, "hostname": {"da1.example"}, "select0": {op.zone}}
		req, err = http.NewRequest("POST", baseURL+"/CMD_API_DNS_ADMIN", strings.NewReader(form.Encode()))
	}
	if err != nil {
		return err
	}
	req.SetBasicAuth("da", e2ePass)
	op.start = time.Now()
	resp, err := c.Do(req)
	op.end = time.Now()
	if err != nil {
		op.out = unknown
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	v, _ := url.ParseQuery(string(raw))
	op.out = refused
	if resp.StatusCode == http.StatusOK && v.Get("error") == "0" {
		op.out = acked
	}
	return nil
}

// state is a zone's content after an op: its serial, or 0 when absent.
func (op *daOp) state() uint32 { return op.serial }

// zoneBody is a zone whose every record depends on serial, so a stored
// text identifies the push it came from.
func zoneBody(name string, serial uint32) string {
	return e2eZone(name, int(serial))
}

// liveZones reads GET /api/v1/zones: name → serial of every live zone.
func liveZones(t *testing.T, c *http.Client, baseURL string) map[string]uint32 {
	t.Helper()
	req, _ := http.NewRequest("GET", baseURL+"/api/v1/zones", nil)
	req.SetBasicAuth("da", e2ePass)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		Name   string `json:"name"`
		Serial uint32 `json:"serial"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("zone list: HTTP %d %v", resp.StatusCode, err)
	}
	out := map[string]uint32{}
	for _, z := range list {
		out[z.Name] = z.Serial
	}
	return out
}

// waitRefused polls until the DNS server no longer serves name (REFUSED).
func waitRefused(t *testing.T, addr, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
		r, err := dns.Exchange(m, addr)
		if err == nil && r.Rcode == dns.RcodeRefused {
			return
		}
		last = fmt.Sprint(r, err)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: still served after its delete; last reply %s", name, last)
}

// checkStoredTexts reopens the store of a stopped node and checks that
// every live zone's stored text is exactly the body of the push its serial
// names, and its canonical form that body's: nothing half-applied.
func checkStoredTexts(t *testing.T, dir string, live map[string]uint32, bodyOf func(name string, serial uint32) string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "data", "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(live) {
		t.Fatalf("store lists %d live zones, the admin API listed %d", len(all), len(live))
	}
	for name, serial := range live {
		z, err := st.Get(ctx, name)
		if err != nil {
			t.Fatalf("zone %s: %v", name, err)
		}
		body := bodyOf(name, serial)
		parsed, err := zone.Parse(zone.Name(name), []byte(body), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if z.Serial != serial || z.Original != body || z.Canonical != parsed.Text() || z.Hash != parsed.Hash() {
			t.Fatalf("zone %s: stored serial %d is not exactly the push of serial %d", name, z.Serial, serial)
		}
	}
}

// Crash test shape: pushers × names; kills at random moments.
const (
	crashPushers   = 6
	crashNames     = 1200
	crashKills     = 4
	crashDeletePct = 6
)

// TestCrashUnderConcurrentPushes pushes zones from several concurrent
// pushers while the node is SIGKILLed at random moments and restarted on
// the same data directory and ports, then checks the store and the builtin
// DNS server against the acknowledgements.
//
// Each zone name belongs to one pusher, which sends its requests one after
// another, so the order of a zone's requests is known exactly. A request is
// acknowledged (error=0), refused (error=1: must not be applied) or
// unknown (no reply: the process was killed while it was in flight, so its
// commit may or may not have happened before the kill). The final state of
// a zone must then be the state after its last acknowledged request, or
// after one of the unknown requests that followed it: an unknown request
// before the last acknowledged one cannot win, because the process that
// received it died before the next request of the same pusher was sent,
// and commits of a dead process do not happen later. A request that fails
// without a kill fails the test, so every unknown is explained by a kill.
func TestCrashUnderConcurrentPushes(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	var (
		cur     atomic.Pointer[node]
		gate    atomic.Pointer[chan struct{}] // closed while the node is up
		kills   atomic.Int64
		ackedN  atomic.Int64
		serials atomic.Uint32
		stop    atomic.Bool
	)
	cur.Store(n)
	up := make(chan struct{})
	close(up)
	gate.Store(&up)
	serials.Store(2026000000)

	hist := make([][]*daOp, crashNames) // per zone, in send order; zone i owned by pusher i%crashPushers
	name := func(i int) string { return fmt.Sprintf("c%04d.crash.example", i) }
	errc := make(chan error, crashPushers)
	var wg sync.WaitGroup
	for p := range crashPushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := daClient()
			rng := rand.New(rand.NewPCG(uint64(p), 9))
			mine := crashNames / crashPushers
			for next := 0; !stop.Load(); {
				// Two thirds of the requests walk through the pusher's zones,
				// a third go to a few hot zones: many repeats.
				k := next % mine
				if rng.IntN(3) == 0 {
					k = rng.IntN(10)
				} else {
					next++
				}
				i := k*crashPushers + p
				op := &daOp{zone: name(i)}
				if rng.IntN(100) >= crashDeletePct {
					op.serial = serials.Add(1)
					op.body = zoneBody(op.zone, op.serial)
				}
				k0 := kills.Load() // before the gate: see the test's comment
				<-*gate.Load()
				err := op.send(c, cur.Load().httpURL)
				hist[i] = append(hist[i], op)
				if op.out == acked {
					ackedN.Add(1)
				}
				if err != nil && kills.Load() == k0 {
					errc <- fmt.Errorf("%s failed with no kill: %w", op.zone, err)
					return
				}
			}
		}()
	}

	// Kill after a random number of further acknowledgements, so each kill
	// lands in the middle of the burst whatever the machine's speed.
	rng := rand.New(rand.NewPCG(42, 7))
	waitAcks := func(k int64) {
		target := ackedN.Load() + k
		deadline := time.Now().Add(40 * time.Second)
		for ackedN.Load() < target && time.Now().Before(deadline) && len(errc) == 0 {
			time.Sleep(time.Millisecond * time.Duration(1+rng.IntN(5)))
		}
	}
	for range crashKills {
		waitAcks(int64(150 + rng.IntN(350)))
		down := make(chan struct{})
		gate.Store(&down)
		kills.Add(1)
		cur.Load().kill()
		cur.Store(startNode(t, dir, httpPort, dnsPort))
		close(down)
	}
	waitAcks(300)
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	final := cur.Load()
	c := daClient()
	live := liveZones(t, c, final.httpURL)
	var sent, ackN, refusedN, unknownN, deletes, verified, absent, never int
	for i := range crashNames {
		ops := hist[i]
		if len(ops) == 0 {
			never++
		}
		allowed := map[uint32]bool{0: true} // never pushed: absent
		for _, op := range ops {
			sent++
			switch op.out {
			case acked:
				ackN++
				allowed = map[uint32]bool{op.state(): true}
			case refused:
				refusedN++
			case unknown:
				unknownN++
				allowed[op.state()] = true
			}
			if op.serial == 0 {
				deletes++
			}
		}
		got := live[name(i)]
		if !allowed[got] {
			t.Fatalf("zone %s holds serial %d; allowed by the acknowledgements: %v", name(i), got, allowed)
		}
		if got == 0 {
			waitRefused(t, final.dnsAddr, name(i))
			absent++
		} else {
			waitSOASerial(t, final.dnsAddr, name(i), got)
		}
		verified++
	}
	for z := range live {
		var i int
		if _, err := fmt.Sscanf(z, "c%04d.crash.example", &i); err != nil || i >= crashNames {
			t.Fatalf("zone %s was never pushed", z)
		}
	}
	if refusedN > 0 {
		t.Errorf("%d valid pushes to a running node were refused", refusedN)
	}
	final.kill()
	checkStoredTexts(t, dir, live, zoneBody)

	summary := fmt.Sprintf("crash: pushes sent %d (deletes %d), acknowledged %d, unknown %d (in flight at a kill), refused %d; zones %d, verified %d in store and DNS (live %d, deleted %d, never pushed %d); kills %d",
		sent, deletes, ackN, unknownN, refusedN, crashNames, verified, verified-absent, absent-never, never, kills.Load())
	t.Log(summary)
	fmt.Println(summary)
}

// Ordering test shape.
const (
	orderPushers     = 6
	orderOwnZones    = 3  // per pusher, pushed by it alone
	orderOwnPushes   = 12 // per own zone
	orderSharedZones = 4  // pushed by every pusher at once
	orderRaceZones   = 4  // saved and deleted by every pusher at once
	orderSharedOps   = 8  // per pusher and shared or race zone
)

// TestConcurrentPushOrdering checks that the final state of every zone,
// in the store and on the builtin DNS server, is the last acknowledged
// request, with no kills.
//
// Two concurrent requests may get their replies in another order than
// their commits, so "last" is decided soundly:
//   - a zone pushed by one pusher at a time (strictly sequential, rising
//     serials) must end at its last push, with one stored version per push;
//   - for zones pushed (and deleted) by every pusher at once, a request X
//     that started after request O's reply arrived was committed after O;
//     the final state must be that of a request no other request started
//     after: one of the "maximal" requests in real-time order. A zone only
//     saved must also have one version per acknowledged save: none lost.
func TestConcurrentPushOrdering(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	var serials atomic.Uint32
	serials.Store(2026100000)
	own := func(p, k int) string { return fmt.Sprintf("own%d-%d.order.example", p, k) }
	shared := func(k int) string { return fmt.Sprintf("shared%d.order.example", k) }
	race := func(k int) string { return fmt.Sprintf("race%d.order.example", k) }

	var mu sync.Mutex
	byZone := map[string][]*daOp{}
	var wg sync.WaitGroup
	errc := make(chan error, orderPushers)
	for p := range orderPushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := daClient()
			rng := rand.New(rand.NewPCG(uint64(p), 3))
			var plan []*daOp
			for r := range orderOwnPushes {
				for k := range orderOwnZones {
					plan = append(plan, &daOp{zone: own(p, k)})
				}
				if r < orderSharedOps {
					for k := range orderSharedZones {
						plan = append(plan, &daOp{zone: shared(k)})
					}
					for k := range orderRaceZones {
						op := &daOp{zone: race(k)}
						if rng.IntN(2) == 0 {
							op.serial = 1 // a save; its serial is taken when sent
						}
						plan = append(plan, op)
					}
				}
			}
			for _, op := range plan {
				if !strings.HasPrefix(op.zone, "race") || op.serial != 0 {
					op.serial = serials.Add(1)
					op.body = zoneBody(op.zone, op.serial)
				}
				if err := op.send(c, n.httpURL); err != nil || op.out != acked {
					errc <- fmt.Errorf("%s serial %d: outcome %d %v", op.zone, op.serial, op.out, err)
					return
				}
				mu.Lock()
				byZone[op.zone] = append(byZone[op.zone], op)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	c := daClient()
	live := liveZones(t, c, n.httpURL)
	checked, requests := 0, 0
	for z, ops := range byZone {
		requests += len(ops)
		got := live[z]
		allowed := allowedFinal(z, ops)
		if !allowed[got] {
			t.Fatalf("zone %s ends at serial %d; the last acknowledged request allows only %v", z, got, allowed)
		}
		if !strings.HasPrefix(z, "race") {
			if v := zoneVersion(t, c, n.httpURL, z); v != int64(len(ops)) {
				t.Fatalf("zone %s: version %d after %d acknowledged pushes", z, v, len(ops))
			}
		}
		if got == 0 {
			waitRefused(t, n.dnsAddr, z)
		} else {
			waitSOASerial(t, n.dnsAddr, z, got)
		}
		checked++
	}
	if want := orderPushers*orderOwnZones + orderSharedZones + orderRaceZones; checked != want {
		t.Fatalf("checked %d zones, want %d", checked, want)
	}
	n.kill()
	checkStoredTexts(t, dir, live, zoneBody)
	summary := fmt.Sprintf("ordering: requests sent %d, acknowledged %d; zones %d (%d sequential, %d shared, %d delete/re-create races), final state verified %d in store and DNS",
		requests, requests, checked, orderPushers*orderOwnZones, orderSharedZones, orderRaceZones, checked)
	t.Log(summary)
	fmt.Println(summary)
}

// allowedFinal returns the states (serial, 0 for absent) a zone may end in
// after ops, all acknowledged. For a zone of one pusher (ops in send order,
// each starting after the previous one's reply) that is the last op's
// state; in general it is the state of any op that no other op started
// after.
func allowedFinal(z string, ops []*daOp) map[uint32]bool {
	var latestStart time.Time
	for _, op := range ops {
		if op.start.After(latestStart) {
			latestStart = op.start
		}
	}
	allowed := map[uint32]bool{}
	for _, op := range ops {
		if !op.end.Before(latestStart) {
			allowed[op.state()] = true
		}
	}
	return allowed
}

// zoneVersion reads the stored version of a zone from the admin API.
func zoneVersion(t *testing.T, c *http.Client, baseURL, name string) int64 {
	t.Helper()
	req, _ := http.NewRequest("GET", baseURL+"/api/v1/zones/"+name, nil)
	req.SetBasicAuth("da", e2ePass)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Version int64 `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 200 {
		t.Fatalf("zone %s: HTTP %d %v", name, resp.StatusCode, err)
	}
	return d.Version
}
