package dispatch_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/api"
	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/bind"
	"github.com/dadns/dadns/internal/backend/builtin"
	"github.com/dadns/dadns/internal/backend/memory"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/hostingzone"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/procstat"
	"github.com/dadns/dadns/internal/zone"
)

// BenchmarkPushToServed traces where a builtin backend's push → served
// time goes in a dadns-like process: the SQLite store, the DirectAdmin API
// over HTTP, the dispatcher with the builtin beside several other
// backends (a real bind driving its own named when installed, and
// backends that spend CPU and wall time per batch the way the SQL and
// daemon backends do). It re-pushes zones one at a time on an idle
// system (as the bench's push-to-served phase), back to back at C=1 and
// at C=16, and reports the medians of each step of every push:
// send → commit, commit → the builtin's Due starts (wake), Due's wait,
// Due returned → Apply starts, Apply, and send → served.
//
//	go test -run '^$' -bench PushToServed -benchtime 1x ./internal/dispatch/
//
// DADNS_SERVED_ZONES (default 2000) zones are stored first;
// DADNS_SERVED_OTHERS (default 6) other backends run beside the builtin;
// DADNS_SERVED_HINTS=0 wakes the workers to read the store instead of
// handing them the committed changes (the wiring before hints).
func BenchmarkPushToServed(b *testing.B) {
	nzones := envInt("DADNS_SERVED_ZONES", 2000)
	nothers := envInt("DADNS_SERVED_OTHERS", 6)
	r := newServedRig(b, nzones, nothers)
	for range b.N {
		r.idle(b, 50)
		r.concurrent(b, "C=1", 1, 200)
		r.concurrent(b, "C=16", 16, 25)
	}
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil && n >= 0 {
		return n
	}
	return def
}

// trace is one push's timeline, keyed by the zone's canonical hash.
type trace struct {
	send, putStart, commit, ack time.Time
	dueStart, dueEnd            time.Time
	applyStart, applyEnd        time.Time
	recStart, recEnd            time.Time // the builtin's Applied call
	viaDue                      bool
}

type tracer struct {
	mu sync.Mutex
	m  map[string]*trace
}

func (t *tracer) at(hash string, f func(tr *trace)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.m[hash]
	if tr == nil {
		tr = &trace{}
		t.m[hash] = tr
	}
	f(tr)
}

// tracedStore records the commit of every Put and the builtin's Due calls.
type tracedStore struct {
	store.Store
	tr      *tracer
	builtin string
	// calls since the last report: Due and Applied calls of every
	// backend (each takes the store's writer, as do pushes)
	dues, applieds atomic.Int64
}

func (s *tracedStore) Put(ctx context.Context, z store.Zone) (store.Zone, error) {
	start := time.Now()
	out, err := s.Store.Put(ctx, z)
	end := time.Now()
	s.tr.at(z.Hash, func(tr *trace) { tr.putStart, tr.commit = start, end })
	return out, err
}

func (s *tracedStore) Due(ctx context.Context, backend string, limit int) ([]store.Work, time.Time, error) {
	s.dues.Add(1)
	start := time.Now()
	work, next, err := s.Store.Due(ctx, backend, limit)
	end := time.Now()
	if backend == s.builtin {
		for _, w := range work {
			s.tr.at(w.Zone.Hash, func(tr *trace) {
				if tr.dueStart.IsZero() {
					tr.dueStart, tr.dueEnd, tr.viaDue = start, end, true
				}
			})
		}
	}
	return work, next, err
}

func (s *tracedStore) Applied(ctx context.Context, backend string, done []store.Applied) error {
	s.applieds.Add(1)
	start := time.Now()
	err := s.Store.Applied(ctx, backend, done)
	end := time.Now()
	if backend == s.builtin {
		for _, a := range done {
			s.tr.at(a.Hash, func(tr *trace) {
				if tr.recStart.IsZero() {
					tr.recStart, tr.recEnd = start, end
				}
			})
		}
	}
	return err
}

// tracedBuiltin records the builtin's Apply calls: when Apply returns,
// the zone is served (the snapshot swap is done).
type tracedBuiltin struct {
	*builtin.Backend
	tr *tracer
}

func (b *tracedBuiltin) Apply(ctx context.Context, zones []*zone.Zone) error {
	start := time.Now()
	err := b.Backend.Apply(ctx, zones)
	end := time.Now()
	for _, z := range zones {
		b.tr.at(z.Hash(), func(tr *trace) {
			if tr.applyStart.IsZero() {
				tr.applyStart, tr.applyEnd = start, end
			}
		})
	}
	return err
}

// busy is a backend that takes wall time and CPU per batch, as a backend
// talking to a database or a daemon does: a round trip (sleep) and work
// per zone (CPU).
type busy struct {
	*memory.Backend
	wait    time.Duration
	cpuZone time.Duration
}

func (b *busy) Apply(ctx context.Context, zones []*zone.Zone) error {
	batches.Add(1)
	for range zones {
		// Work per zone between system calls: the goroutine gives its
		// processor up between zones as I/O would.
		spin(b.cpuZone)
		runtime.Gosched()
	}
	time.Sleep(b.wait)
	return b.Backend.Apply(ctx, zones)
}

// batches counts the busy backends' Apply calls.
var batches atomic.Int64

// spin burns CPU for d.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		for i := range 1000 {
			x += i
		}
	}
	_ = x
}

type servedRig struct {
	srv     *httptest.Server
	st      *tracedStore
	dns     *dnsserver.Server
	tr      *tracer
	names   []string
	texts   map[string]string
	serial  map[string]int
	workers []string
	rng     *rand.Rand
	mu      sync.Mutex
	ackOnly bool // BenchmarkAckLatency: report the ack's p99 too
}

var soaSerial = regexp.MustCompile(`\( \d+ 3600`)

func newServedRig(b *testing.B, nzones, nothers int) *servedRig {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	dir := b.TempDir()
	raw, err := sqlite.Open(ctx, filepath.Join(dir, "dadns.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	tr := &tracer{m: map[string]*trace{}}
	st := &tracedStore{Store: raw, tr: tr, builtin: "builtin"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	r := &servedRig{st: st, tr: tr, texts: map[string]string{}, serial: map[string]int{}, rng: rand.New(rand.NewPCG(1, 2))}
	for i := range nzones {
		name := fmt.Sprintf("site%d.example", i)
		r.names = append(r.names, name)
		r.texts[name] = hostingzone.Text(r.rng, name)
		r.serial[name] = 2026120100
		z, err := zone.Parse(zone.Name(name), []byte(r.zoneText(name)), zone.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := raw.Put(ctx, store.Zone{Name: name, Canonical: z.Text(), Original: z.Text(), Hash: z.Hash(),
			Serial: z.Serial, OwnerHost: "da1"}); err != nil {
			b.Fatal(err)
		}
	}

	r.dns = dnsserver.New(dnsserver.Options{Logger: log})
	backends := map[string]backend.Backend{"builtin": &tracedBuiltin{Backend: builtin.New(r.dns), tr: tr}}
	others := nothers
	if others > 0 && bindAvailable() {
		backends["bind"] = newBindBackend(b, dir)
		others--
	}
	for i := range others {
		// Like the SQL backends: a transaction's round trips and commit
		// (a few ms of waiting), a little CPU per zone.
		backends[fmt.Sprintf("busy%d", i)] = &busy{Backend: memory.New(), wait: 3 * time.Millisecond, cpuZone: 300 * time.Microsecond}
	}
	for name := range backends {
		r.workers = append(r.workers, name)
	}
	slices.Sort(r.workers)
	parsed := zone.NewCache(4096)
	disp := dispatch.New(st, backends, dispatch.Options{Logger: log, Parsed: parsed})
	popt := push.Options{Store: st, Logger: log, Parsed: parsed, Changed: disp.Notify}
	if os.Getenv("DADNS_SERVED_HINTS") != "0" {
		// As dadns serve wires one node: changes handed to the workers.
		popt.Changed, popt.Committed = nil, disp.Committed
	}
	svc := push.New(popt)
	if err := disp.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(disp.Wait)
	b.Cleanup(cancel)
	r.srv = httptest.NewServer(api.New(api.Options{Store: st, Push: svc, Logger: log,
		Credentials: api.Credentials{Username: "da", Password: "bench-pass"}}).Handler())
	b.Cleanup(r.srv.Close)
	start := time.Now()
	r.awaitIdle(b, 10*time.Minute)
	r.st.dues.Store(0)
	r.st.applieds.Store(0)
	batches.Store(0)
	b.Logf("%d zones, backends %v: initial apply %.1f s", nzones, r.workers, time.Since(start).Seconds())
	return r
}

func bindAvailable() bool {
	_, err := os.Stat(namedtest.NamedPath)
	return err == nil
}

func newBindBackend(b *testing.B, dir string) backend.Backend {
	include := filepath.Join(dir, "bind", "dadns.conf")
	if err := os.MkdirAll(filepath.Dir(include), 0o755); err != nil {
		b.Fatal(err)
	}
	named := namedtest.StartWithInclude(b, include, namedtest.IncludeOptions{})
	bb, err := bind.New(bind.Options{
		ZonesDir: filepath.Join(dir, "bind", "zones"), IncludeFile: include, VerifyAddr: named.Addr,
		Rndc: bind.Rndc{Path: namedtest.RndcPath, Conf: named.RndcConf()}, VerifyTimeout: 20 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	return bb
}

func (r *servedRig) zoneText(name string) string {
	return soaSerial.ReplaceAllString(r.texts[name], fmt.Sprintf("( %d 3600", r.serial[name]))
}

// awaitIdle waits until no backend has work pending.
func (r *servedRig) awaitIdle(b *testing.B, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		busy := false
		for _, w := range r.workers {
			a, d, err := r.st.Pending(context.Background(), w)
			if err != nil {
				b.Fatal(err)
			}
			if a+d > 0 {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("backends still busy after %s", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// repush sends zone name with its next serial and returns the new hash.
func (r *servedRig) repush(b *testing.B, client *http.Client, name string) string {
	r.mu.Lock()
	r.serial[name]++
	text := r.zoneText(name)
	r.mu.Unlock()
	z, err := zone.Parse(zone.Name(name), []byte(text), zone.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	hash := z.Hash()
	send := time.Now()
	r.tr.at(hash, func(tr *trace) { tr.send = send })
	req, _ := http.NewRequest("POST", r.srv.URL+"/CMD_API_DNS_ADMIN?action=rawsave&domain="+name+"&hostname=da1", strings.NewReader(text))
	req.SetBasicAuth("da", "bench-pass")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ack := time.Now()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "error=0") {
		b.Fatalf("push %s: HTTP %d %s", name, resp.StatusCode, body)
	}
	r.tr.at(hash, func(tr *trace) { tr.ack = ack })
	return hash
}

// awaitServed waits until the builtin serves every hash.
func (r *servedRig) awaitServed(b *testing.B, hashes []string) {
	deadline := time.Now().Add(time.Minute)
	for {
		done := true
		r.tr.mu.Lock()
		for _, h := range hashes {
			if r.tr.m[h].applyEnd.IsZero() {
				done = false
				break
			}
		}
		r.tr.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("builtin did not serve the pushes within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}

// idle changes one zone at a time, waiting for every backend between
// changes, as the bench's push-to-served phase does.
func (r *servedRig) idle(b *testing.B, n int) {
	client := &http.Client{}
	var hashes []string
	for i := range n {
		h := r.repush(b, client, r.names[(len(r.names)-1-i)%len(r.names)])
		hashes = append(hashes, h)
		r.awaitServed(b, []string{h})
		r.awaitIdle(b, time.Minute)
	}
	r.report(b, "idle", hashes)
}

// concurrent re-pushes with c pushers, each n zones, back to back while
// the backends apply.
func (r *servedRig) concurrent(b *testing.B, label string, c, n int) {
	var mu sync.Mutex
	var hashes []string
	var wg sync.WaitGroup
	for p := range c {
		wg.Go(func() {
			client := &http.Client{}
			for i := range n {
				name := r.names[(p*n+i)*7%len(r.names)]
				h := r.repush(b, client, name)
				mu.Lock()
				hashes = append(hashes, h)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.awaitServed(b, hashes)
	r.awaitIdle(b, 5*time.Minute)
	r.report(b, label, hashes)
}

func (r *servedRig) report(b *testing.B, label string, hashes []string) {
	var ack, prePut, toAck, put, wake, due, toApply, apply, served, fromCommit, rec []time.Duration
	viaDue := 0
	r.tr.mu.Lock()
	for _, h := range hashes {
		t := r.tr.m[h]
		ack = append(ack, t.ack.Sub(t.send))
		put = append(put, t.commit.Sub(t.putStart))
		prePut = append(prePut, t.putStart.Sub(t.send))
		toAck = append(toAck, t.ack.Sub(t.commit))
		served = append(served, t.applyEnd.Sub(t.send))
		fromCommit = append(fromCommit, t.applyStart.Sub(t.commit))
		apply = append(apply, t.applyEnd.Sub(t.applyStart))
		if !t.recStart.IsZero() {
			rec = append(rec, t.recEnd.Sub(t.recStart))
		}
		if t.viaDue {
			viaDue++
			wake = append(wake, t.dueStart.Sub(t.commit))
			due = append(due, t.dueEnd.Sub(t.dueStart))
			toApply = append(toApply, t.applyStart.Sub(t.dueEnd))
		}
	}
	r.tr.mu.Unlock()
	b.Logf("%-5s %4d pushes: median (p90) ms: ack %s [send→Put %s, Put %s, commit→ack %s] | commit→apply start %s [via Due %d: commit→Due start %s, Due %s, Due→Apply %s] | Apply %s | send→served %s | the builtin's Applied call %s",
		label, len(hashes), mp(ack), mp(prePut), mp(put), mp(toAck), mp(fromCommit), viaDue, mp(wake), mp(due), mp(toApply), mp(apply), mp(served), mp(rec))
	b.Logf("%-5s store calls per push: Due %.2f, Applied %.2f; busy backends' batches per push %.2f",
		label, float64(r.st.dues.Swap(0))/float64(len(hashes)), float64(r.st.applieds.Swap(0))/float64(len(hashes)),
		float64(batches.Swap(0))/float64(len(hashes)))
	b.ReportMetric(ms(pct(served, 50)), label+"-served-ms")
	b.ReportMetric(ms(pct(ack, 50)), label+"-ack-ms")
	if r.ackOnly {
		b.ReportMetric(ms(pct(ack, 99)), label+"-ack-p99-ms")
	}
}

// BenchmarkAckLatency is BenchmarkPushToServed's rig measuring what the
// bench's ack latency runs measure: re-pushes of loaded zones over HTTP,
// back to back at C=1 and C=16, while every backend applies each change
// (the builtin, a real bind when installed, busy backends standing in for
// the SQL and daemon ones: a round trip and CPU per zone). It reports the
// ack's p50 and p99 and the process's CPU per push (everything: HTTP,
// parse, store, the workers and the backends).
//
//	go test -run '^$' -bench AckLatency -benchtime 1x ./internal/dispatch/
func BenchmarkAckLatency(b *testing.B) {
	nzones := envInt("DADNS_SERVED_ZONES", 2000)
	nothers := envInt("DADNS_SERVED_OTHERS", 6)
	r := newServedRig(b, nzones, nothers)
	r.ackOnly = true
	for range b.N {
		for _, c := range []struct {
			label  string
			c, per int
		}{{"C=1", 1, 400}, {"C=16", 16, 25}} {
			cpu0 := procstat.SelfCPU()
			r.concurrent(b, c.label, c.c, c.per)
			b.ReportMetric(float64((procstat.SelfCPU()-cpu0).Microseconds())/float64(c.c*c.per), c.label+"-cpu-µs/push")
		}
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mp(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f (%.2f)", ms(pct(ds, 50)), ms(pct(ds, 90)))
}
