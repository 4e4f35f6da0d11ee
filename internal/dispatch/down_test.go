package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/memory"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
	"github.com/dadns/dadns/internal/zone"
)

// TestDownBackendNoHotLoop runs a worker in real time against a backend
// whose server is down while its zone list still reads (as bind's does
// from its include): it applies once, probes on a backoff, applies nothing
// more while down, logs a handful of lines, shows every zone failing, and
// converges once the server answers again.
func TestDownBackendNoHotLoop(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := &env{t: t, st: st}
	mem := memory.New()
	mem.SetUnreachable(errors.New("rndc: connect failed: 127.0.0.1#953: connection refused"))
	var logs syncbuf.Buffer
	w := NewWorker("mem", mem, st, Options{BatchSize: 50, Schedule: []time.Duration{time.Second},
		ProbeMin: 20 * time.Millisecond, ProbeMax: 160 * time.Millisecond, DownSummary: time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	var zs []*zone.Zone
	for i := range 20 {
		zs = append(zs, e.push(fmt.Sprintf("early%02d.example", i), 1))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	time.Sleep(500 * time.Millisecond)
	for i := range 10 { // pushed while down: never applied, shown failing
		zs = append(zs, e.push(fmt.Sprintf("late%02d.example", i), 1))
		w.Wake()
	}
	time.Sleep(2500 * time.Millisecond)
	calls, probes := mem.Calls(), mem.Probes()
	lines := strings.Count(logs.String(), "\n")
	t.Logf("3 s down: %d apply calls, %d probes, %d log lines", calls, probes, lines)
	if calls != 1 {
		t.Errorf("%d apply calls while down, want the one that found it down", calls)
	}
	// Probes at 0, 20, 60, 140, 300 ms, then every 160 ms: about 20 in 3 s.
	if probes < 5 || probes > 40 {
		t.Errorf("%d probes in 3 s, want a backoff of 20 ms doubling to 160 ms", probes)
	}
	if lines > 10 {
		t.Errorf("%d log lines while down, want a few:\n%s", lines, logs.String())
	}
	if st := w.Status(); !st.Down || !strings.Contains(st.LastError, "connection refused") {
		t.Errorf("status while down: %+v", st)
	}
	for _, z := range zs {
		s := e.state(string(z.Name), "mem")
		if s.State != store.StateFailed || !strings.Contains(s.LastError, "connection refused") {
			t.Fatalf("%s while down: %+v; want failing with the server's error", z.Name, s)
		}
	}

	mem.SetUnreachable(nil)
	deadline := time.Now().Add(20 * time.Second)
	for {
		names, _ := mem.Zones(context.Background())
		if len(names) == len(zs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d zones applied after the server came back", len(names), len(zs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, z := range zs {
		mustHold(t, mem, z)
	}
	if n := strings.Count(logs.String(), "backend answers again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, logs.String())
	}
	if st := w.Status(); st.Down || st.LastError != "" {
		t.Errorf("status after recovery: %+v", st)
	}
	if c := mem.Calls(); c > 4 {
		t.Errorf("%d apply calls in all for 30 zones in batches of 50", c)
	}
}

// TestProbeBackoffAndSchedule drives a worker with a fake clock: probes
// come 1 s, 2 s, 4 s ... 30 s apart while down, nothing is applied, and
// when the backend answers the zones are retried on their own schedule,
// not all at once.
func TestProbeBackoffAndSchedule(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", mem)
	// own.example fails by itself three times: its next retry is 15 minutes out.
	e.push("own.example", 1)
	mem.FailZone("own.example", errors.New("zone refused"))
	for _, d := range DefaultSchedule[:3] {
		drain(t, w)
		e.clk.Advance(d)
	}
	if s := e.state("own.example", "mem"); s.Attempts != 3 {
		t.Fatalf("own.example: %+v", s)
	}
	// own.example is due now; the backend goes down as it is retried.
	mem.SetDown(errors.New("connection refused"))
	for i := range 5 {
		e.push(fmt.Sprintf("down%d.example", i), 1)
	}
	start, calls := e.clk.Now(), mem.Calls()
	drain(t, w)
	if !w.health.down || mem.Probes() != 1 {
		t.Fatalf("a wholesale failure with a failing probe did not mark the backend down (probes %d)", mem.Probes())
	}
	var probedAt []time.Duration
	for range 1200 { // two minutes in steps of 100 ms
		e.clk.Advance(100 * time.Millisecond)
		before := mem.Probes()
		if n, _, err := w.RunOnce(context.Background()); n != 0 || err != nil {
			t.Fatalf("RunOnce while down handled %d zones (%v)", n, err)
		}
		if mem.Probes() != before {
			probedAt = append(probedAt, e.clk.Now().Sub(start).Round(100*time.Millisecond))
		}
	}
	want := []time.Duration{1, 3, 7, 15, 31, 61, 91}
	for i := range want {
		want[i] *= time.Second
	}
	if fmt.Sprint(probedAt) != fmt.Sprint(want) {
		t.Fatalf("probes at %v, want %v", probedAt, want)
	}
	if c := mem.Calls() - calls; c != 1 {
		t.Fatalf("%d apply calls while down, want 1", c)
	}
	mem.SetDown(nil)
	e.clk.Advance(30 * time.Second) // the next probe
	if n := drain(t, w); n != 5 {
		t.Fatalf("after recovery %d zones handled, want the 5 due (own.example waits for its retry)", n)
	}
	if s := e.state("own.example", "mem"); s.State != store.StateFailed || s.Attempts != 4 {
		t.Fatalf("own.example after recovery: %+v", s)
	}
	mem.FailZone("own.example", nil)
	e.clk.Advance(DefaultSchedule[3])
	if n := drain(t, w); n != 1 {
		t.Fatalf("own.example not retried at its time (handled %d)", n)
	}
}

// TestNoProbeNoDownState: a backend without a probe is never marked down;
// its zones follow their retry schedule.
func TestNoProbeNoDownState(t *testing.T) {
	e := newEnv(t)
	mem := memory.New()
	w := e.worker("mem", noProbe{mem})
	mem.SetDown(errors.New("connection refused"))
	e.push("np.example", 1)
	drain(t, w)
	if w.health.down {
		t.Fatal("a backend without a probe was marked down")
	}
	if n := drain(t, w); n != 0 {
		t.Fatal("retried before its time")
	}
	mem.SetDown(nil)
	e.clk.Advance(DefaultSchedule[0])
	if n := drain(t, w); n != 1 {
		t.Fatalf("handled %d at the retry time", n)
	}
}

// noProbe hides memory's Probe.
type noProbe struct{ b *memory.Backend }

func (n noProbe) Apply(ctx context.Context, zs []*zone.Zone) error { return n.b.Apply(ctx, zs) }
func (n noProbe) Delete(ctx context.Context, ns []zone.Name) error { return n.b.Delete(ctx, ns) }
func (n noProbe) Zones(ctx context.Context) ([]zone.Name, error)   { return n.b.Zones(ctx) }
func (n noProbe) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	return n.b.Zone(ctx, name)
}
