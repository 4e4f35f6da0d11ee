package bind

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/zone"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestNamedDownConverges stops named, lets the dispatcher apply pushed
// zones (they fail with rndc's error and stay stored), starts named again
// and lets the retry schedule run: every zone converges with no other
// action.
func TestNamedDownConverges(t *testing.T) {
	r := newRig(t, false)
	b := r.backend(t, false)
	clk := &clock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	ctx := testCtx(t)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := dispatch.NewWorker("bind", b, st, dispatch.Options{Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	put := func(z *zone.Zone) {
		if _, err := st.Put(ctx, store.Zone{Name: string(z.Name), Canonical: z.Text(), Original: z.Text(),
			Hash: z.Hash(), Serial: z.Serial, OwnerHost: "da1"}); err != nil {
			t.Fatal(err)
		}
	}
	old := backendtest.Zone(t, "old.example", 1)
	put(old)
	runOnce(t, w)

	r.named.Stop()
	zs := append(zones(t, "down", 5, 1), backendtest.Zone(t, "old.example", 2))
	for _, z := range zs {
		put(z)
	}
	runOnce(t, w)
	for _, z := range zs {
		s := backendState(t, st, z.Name)
		if s.State != store.StateFailed || !strings.Contains(s.LastError, "rndc") {
			t.Fatalf("%s with named down: state %s, error %q; want failed with rndc's error", z.Name, s.State, s.LastError)
		}
	}

	r.named.Restart(t)
	clk.Add(dispatch.DefaultSchedule[0] + time.Second)
	runOnce(t, w)
	for _, z := range zs {
		if s := backendState(t, st, z.Name); s.State != store.StateApplied || s.AppliedHash != z.Hash() {
			t.Fatalf("%s after named is back: %+v", z.Name, s)
		}
	}
	mustVerify(t, b, zs)
}

func runOnce(t *testing.T, w *dispatch.Worker) {
	t.Helper()
	if _, _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func backendState(t *testing.T, st store.Store, name zone.Name) store.BackendState {
	t.Helper()
	ss, err := st.BackendStates(context.Background(), string(name))
	if err != nil || len(ss) != 1 {
		t.Fatalf("backend states of %s: %v %v", name, ss, err)
	}
	return ss[0]
}

// TestProbe: "rndc status" answers while named runs and fails with rndc's
// message while it is stopped; probing changes nothing.
func TestProbe(t *testing.T) {
	r := newRig(t, false)
	b := r.backend(t, false)
	ctx := testCtx(t)
	if err := b.Probe(ctx); err != nil {
		t.Fatalf("probe of a running named: %v", err)
	}
	r.named.Stop()
	err := b.Probe(ctx)
	if err == nil || !strings.Contains(err.Error(), "rndc status") || !strings.Contains(err.Error(), "rndc:") {
		t.Fatalf("probe of a stopped named = %v; want rndc's message", err)
	}
	r.named.Restart(t)
	if err := b.Probe(ctx); err != nil {
		t.Fatalf("probe after restart: %v", err)
	}
	if calls := r.calls(t); len(calls) != 3 || calls[0] != "status" || calls[2] != "status" {
		t.Fatalf("rndc calls %v, want three status calls", calls)
	}
}

// TestNamedDownFailsTheBatch: with named stopped, an apply of zones named
// already has (one "rndc reload ZONE" each) fails as a whole batch with
// rndc's error after the first attempt, instead of one zone error per
// zone: the dispatcher then probes named and stays quiet until it is
// back, rather than trying and logging every zone.
func TestNamedDownFailsTheBatch(t *testing.T) {
	r := newRig(t, false)
	b := r.backend(t, false)
	ctx := testCtx(t)
	held := zones(t, "held", 5, 1)
	if err := b.Apply(ctx, held); err != nil {
		t.Fatal(err)
	}
	r.named.Stop()
	calls := b.rndc.calls.Load()
	err := b.Apply(ctx, zones(t, "held", 5, 2))
	perZone, rest := backend.PerZone(err)
	if rest == nil || len(perZone) != 0 || !strings.Contains(err.Error(), "connect failed") {
		t.Fatalf("apply with named down: zone errors %v, batch error %v; want one batch error with rndc's reason", perZone, rest)
	}
	if n := b.rndc.calls.Load() - calls; n != 1 {
		t.Fatalf("%d rndc commands with named down, want 1 (the first reload tells)", n)
	}
}
