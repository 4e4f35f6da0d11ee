package knot

import (
	"context"
	"github.com/dadns/dadns/internal/store/sqlite"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestKnotDownConverges stops knotd, lets the dispatcher apply pushed
// zones (they fail with knotc's error and stay stored; nothing is retried
// before the schedule says so), starts knotd again from its text
// configuration (which forgot every zone added at run time) and lets the
// retry schedule run: every zone converges, also the one applied before
// knotd stopped and not pushed since.
func TestKnotDownConverges(t *testing.T) {
	r := newRig(t, knottest.Options{})
	b := r.backend(t, false)
	clk := &clock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	ctx := testCtx(t)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := dispatch.NewWorker("knot", b, st, dispatch.Options{Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	put := func(z *zone.Zone) {
		if _, err := st.Put(ctx, store.Zone{Name: string(z.Name), Canonical: z.Text(), Original: z.Text(),
			Hash: z.Hash(), Serial: z.Serial, OwnerHost: "da1"}); err != nil {
			t.Fatal(err)
		}
	}
	old, quiet := backendtest.Zone(t, "old.example", 1), backendtest.Zone(t, "quiet.example", 1)
	put(old)
	put(quiet)
	runOnce(t, w)
	mustVerify(t, b, []*zone.Zone{old, quiet})

	r.knot.Stop()
	zs := append(zones(t, "down", 5, 1), backendtest.Zone(t, "old.example", 2))
	for _, z := range zs {
		put(z)
	}
	runOnce(t, w)
	for _, z := range zs {
		s := backendState(t, st, z.Name)
		if s.State != store.StateFailed || !strings.Contains(s.LastError, "knot: knotd ") || !strings.Contains(s.LastError, "failed to connect to socket") {
			t.Fatalf("%s with knotd down: state %s, error %q; want failed with the control connection's error", z.Name, s.State, s.LastError)
		}
	}
	r.calls(t)
	for range 3 {
		runOnce(t, w)
	}
	if got := r.calls(t); len(got) != 0 {
		t.Fatalf("failed zones retried before their time: knotc %q", got)
	}

	r.knot.Restart(t)
	clk.Add(dispatch.DefaultSchedule[0] + time.Second)
	runOnce(t, w)
	for _, z := range zs {
		if s := backendState(t, st, z.Name); s.State != store.StateApplied || s.AppliedHash != z.Hash() {
			t.Fatalf("%s after knotd is back: %+v", z.Name, s)
		}
	}
	mustVerify(t, b, append(zs, quiet))
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
