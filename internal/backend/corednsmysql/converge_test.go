package corednsmysql

import (
	"context"
	"github.com/dadns/dadns/internal/store/sqlite"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
	"github.com/dadns/dadns/internal/zone"
)

// tampering is the backend with a hook run once right after an Apply,
// before the dispatcher verifies: someone else writes the rows then.
type tampering struct {
	*Backend
	mu    sync.Mutex
	after func()
}

func (t *tampering) Apply(ctx context.Context, zones []*zone.Zone) error {
	err := t.Backend.Apply(ctx, zones)
	t.mu.Lock()
	hook := t.after
	t.after = nil
	t.mu.Unlock()
	if hook != nil {
		hook()
	}
	return err
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestDispatcherConvergesAfterTampering runs the real dispatcher worker
// and store over this backend. Rows tampered with between Apply and the
// verification make Verify report a mismatch: the worker records a
// failure, changes nothing, and its retry re-applies the zone, which
// rewrites exactly the drifted rows. Rows tampered with after the zone
// was applied are put back by the worker's Repair step.
func TestDispatcherConvergesAfterTampering(t *testing.T) {
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	f := newFixtureOn(t, server(t), Options{Logger: log})
	clk := &testClock{now: time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	z := backendtest.Zone(t, "tamper.example", 1)
	if _, err := st.Put(testCtx(t), store.Zone{Name: "tamper.example", Canonical: z.Text(), Original: z.Text(),
		Hash: z.Hash(), Serial: z.Serial, OwnerHost: "da1"}); err != nil {
		t.Fatal(err)
	}

	// The rows a clean apply writes, from another database.
	ref := newFixture(t)
	if err := ref.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	want := ref.rows(t, "tamper.example.")

	b := &tampering{Backend: f.b}
	b.after = func() { f.tamper(t, "tamper.example.") }
	opt := dispatch.Options{Now: clk.Now, Logger: log, Schedule: []time.Duration{time.Minute}}
	w := dispatch.NewWorker("cm", b, st, opt)
	state := func() store.BackendState {
		t.Helper()
		sts, err := st.BackendStates(testCtx(t), "tamper.example")
		if err != nil || len(sts) != 1 {
			t.Fatalf("backend states: %v, %v", sts, err)
		}
		return sts[0]
	}

	if n, _, err := w.RunOnce(testCtx(t)); n != 1 || err != nil {
		t.Fatalf("first pass: %d zones, %v", n, err)
	}
	s := state()
	if s.State != store.StateFailed || !strings.Contains(s.LastError, "differs from the applied one") ||
		!strings.Contains(s.LastError, "rows not written by dadns") {
		t.Fatalf("after tampering before verification: %+v, want a failed verification", s)
	}
	tampered := f.rowsWithIDs(t)
	if d := diffLines(f.rows(t, "tamper.example."), want); d == "" {
		t.Fatal("the tampering changed nothing")
	}
	if n, _, err := w.RunOnce(testCtx(t)); n != 0 || err != nil {
		t.Fatalf("pass before the retry is due: %d zones, %v", n, err)
	}
	if d := diffLines(f.rowsWithIDs(t), tampered); d != "" {
		t.Fatalf("rows changed before the retry:\n%s", d)
	}

	clk.Advance(2 * time.Minute)
	if n, _, err := w.RunOnce(testCtx(t)); n != 1 || err != nil {
		t.Fatalf("retry pass: %d zones, %v", n, err)
	}
	if s := state(); s.State != store.StateApplied || s.AppliedHash != z.Hash() {
		t.Fatalf("after the retry: %+v, want applied", s)
	}
	if d := diffLines(f.rows(t, "tamper.example."), want); d != "" {
		t.Fatalf("rows after the retry:\n%s", d)
	}

	// Drift after the zone was applied: nothing is due, the worker's
	// Repair step (after it drains its queue) puts the rows back.
	f.tamper(t, "tamper.example.")
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for diffLines(f.rows(t, "tamper.example."), want) != "" {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("Repair did not put the rows back:\n%s\nlogs:\n%s", diffLines(f.rows(t, "tamper.example."), want), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "repaired\" zone=tamper.example") {
		t.Fatalf("no repair log line:\n%s", logs.String())
	}
	if s := state(); s.State != store.StateApplied {
		t.Fatalf("after repair: %+v", s)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatal(err)
	}
}
