package bind

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/atomicfile"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
)

// failIncludeWrites makes every write of the include fail until the
// returned function is called.
func failIncludeWrites(b *Backend) (restore func()) {
	b.writeFile = func(path string, data []byte, perm os.FileMode) error {
		if path == b.opt.IncludeFile {
			return errors.New("injected: no space left on device")
		}
		return atomicfile.Write(path, data, perm)
	}
	return func() { b.writeFile = atomicfile.Write }
}

// TestIncludeWriteFailureAdd: a batch adding a zone whose include write
// fails leaves the zone new to the backend, so the retry writes the
// include and reconfigures named, which then serves it.
func TestIncludeWriteFailureAdd(t *testing.T) {
	r := newRig(t, false)
	ctx := testCtx(t)
	b := r.backend(t, false)
	first := zones(t, "first", 1, 1)
	if err := b.Apply(ctx, first); err != nil {
		t.Fatal(err)
	}
	restore := failIncludeWrites(b)
	added := zones(t, "added", 1, 1)
	if err := b.Apply(ctx, added); err == nil || !strings.Contains(err.Error(), "write include") {
		t.Fatalf("Apply with a failing include write = %v", err)
	}
	if names, _ := b.Zones(ctx); slices.Contains(names, added[0].Name) {
		t.Fatal("the zone set lists a zone whose include statement was never written")
	}
	restore()
	r.calls(t)
	if err := b.Apply(ctx, added); err != nil {
		t.Fatalf("retry after the include write failed: %v (rndc %v)", err, r.calls(t))
	}
	if calls := r.calls(t); !slices.Contains(calls, "reconfig") {
		t.Fatalf("retry ran %v; want an rndc reconfig for the new zone", calls)
	}
	mustVerify(t, b, append(first, added...))
}

// TestIncludeWriteFailureDelete: a delete whose include write fails is
// not recorded as applied; its retry rewrites the include and reconfigures
// named, and only then, with named no longer serving the zone, is the
// delete recorded.
func TestIncludeWriteFailureDelete(t *testing.T) {
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
	z := zones(t, "gone", 1, 1)[0]
	if _, err := st.Put(ctx, store.Zone{Name: string(z.Name), Canonical: z.Text(), Original: z.Text(),
		Hash: z.Hash(), Serial: z.Serial, OwnerHost: "da1"}); err != nil {
		t.Fatal(err)
	}
	runOnce(t, w)
	if s := backendState(t, st, z.Name); s.State != store.StateApplied {
		t.Fatalf("zone not applied: %+v", s)
	}
	if _, err := st.Delete(ctx, string(z.Name)); err != nil {
		t.Fatal(err)
	}
	restore := failIncludeWrites(b)
	runOnce(t, w)
	if s := backendState(t, st, z.Name); s.State != store.StateFailed || !strings.Contains(s.LastError, "write include") {
		t.Fatalf("delete with a failing include write: %+v", s)
	}
	restore()
	for range 3 { // retries at their scheduled times
		clk.Add(30 * time.Minute)
		runOnce(t, w)
		served := true
		if _, err := b.soaSerial(ctx, z.Name); err != nil {
			served = false
		}
		s := backendState(t, st, z.Name)
		if s.State == store.StateApplied && served {
			t.Fatalf("the delete is recorded as applied while named still serves %s (rndc %v)", z.Name, r.calls(t))
		}
		if s.State == store.StateApplied {
			return
		}
	}
	t.Fatalf("the delete never completed: %+v", backendState(t, st, z.Name))
}
