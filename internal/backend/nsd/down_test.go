package nsd

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
	"github.com/dadns/dadns/internal/store/sqlite"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestNSDDownConverges stops NSD, lets the dispatcher apply pushed zones
// (they fail with nsd-control's error and stay stored; the probe says NSD
// is down), starts NSD again and lets the retry schedule run: every zone
// converges with no other action.
func TestNSDDownConverges(t *testing.T) {
	for _, variant := range []string{ModeAddZone, ModeInclude, ModeAddZone + "/socket", ModeInclude + "/tls"} {
		mode, way, _ := strings.Cut(variant, "/")
		t.Run(variant, func(t *testing.T) {
			r := startRig(t, false, way == "tls")
			r.direct = way == "socket"
			b := r.backend(t, mode, false)
			clk := &clock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
			ctx := testCtx(t)
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"), sqlite.Options{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			w := dispatch.NewWorker("nsd", b, st, dispatch.Options{Now: clk.Now,
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
			if err := b.Probe(ctx); err != nil {
				t.Fatalf("probe with NSD up: %v", err)
			}

			r.nsd.Stop()
			if err := b.Probe(ctx); err == nil || !strings.Contains(err.Error(), "nsd-control status") {
				t.Fatalf("probe with NSD down: %v; want nsd-control's error", err)
			}
			zs := append(zones(t, "down", 5, 1), backendtest.Zone(t, "old.example", 2))
			for _, z := range zs {
				put(z)
			}
			runOnce(t, w)
			for _, z := range zs {
				s := backendState(t, st, z.Name)
				if s.State != store.StateFailed || !strings.Contains(s.LastError, "nsd-control") {
					t.Fatalf("%s with NSD down: state %s, error %q; want failed with nsd-control's error", z.Name, s.State, s.LastError)
				}
			}

			r.nsd.Restart(t)
			if err := b.Probe(ctx); err != nil {
				t.Fatalf("probe after NSD is back: %v", err)
			}
			clk.Add(dispatch.DefaultSchedule[0] + time.Second)
			runOnce(t, w)
			for _, z := range zs {
				if s := backendState(t, st, z.Name); s.State != store.StateApplied || s.AppliedHash != z.Hash() {
					t.Fatalf("%s after NSD is back: %+v", z.Name, s)
				}
			}
			mustVerify(t, b, zs)
		})
	}
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

// TestNSDDownFailsTheBatch: with NSD stopped, an apply of zones NSD
// already serves (one "reload ZONE" each) fails as a whole batch with the
// control error after the first attempt, instead of one zone error per
// zone: the dispatcher then probes NSD and stays quiet until it is back.
func TestNSDDownFailsTheBatch(t *testing.T) {
	for _, variant := range []string{"tls", "socket"} {
		t.Run(variant, func(t *testing.T) {
			r := startRig(t, false, variant == "tls")
			r.direct = variant == "socket"
			b := r.backend(t, ModeAddZone, false)
			ctx := testCtx(t)
			if err := b.Apply(ctx, zones(t, "held", 5, 1)); err != nil {
				t.Fatal(err)
			}
			mustVerify(t, b, zones(t, "held", 5, 1))
			r.nsd.Stop()
			calls := b.ctl.calls.Load()
			err := b.Apply(ctx, zones(t, "held", 5, 2))
			perZone, rest := backend.PerZone(err)
			if rest == nil || len(perZone) != 0 {
				t.Fatalf("apply with NSD down: zone errors %v, batch error %v; want one batch error", perZone, rest)
			}
			if n := b.ctl.calls.Load() - calls; n != 1 {
				t.Fatalf("%d control commands with NSD down, want 1 (the first reload tells): %v", n, err)
			}
		})
	}
}
