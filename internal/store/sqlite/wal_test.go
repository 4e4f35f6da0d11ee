package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// TestWALStaysBounded pushes many times the WAL bound from 8 pushers while
// two readers keep overlapping read transactions open (one always holds a
// snapshot), as the dispatcher and the push path's lookups do. Without the
// RESTART checkpoint the -wal file grows with every push (PASSIVE
// checkpoints never get to start the log over); with it the file stays
// near the bound, and once the pushes stop it is within the bound.
func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes tens of MiB")
	}
	const bound = 4 << 20
	ctx := context.Background()
	s, path := openBounded(t, bound)
	if err := s.Forget(ctx, []string{"builtin", "bind"}); err != nil {
		t.Fatal(err)
	}
	var busyTimeout int
	if err := s.restarter.QueryRow("PRAGMA busy_timeout").Scan(&busyTimeout); err != nil || busyTimeout != 0 {
		t.Fatalf("restarter busy_timeout %d (%v), want 0: the store polls", busyTimeout, err)
	}

	deadline := time.Now().Add(90 * time.Second)
	stop := make(chan struct{})
	var bg sync.WaitGroup
	var peak atomic.Int64
	bg.Go(func() { // samples the -wal file size
		for {
			if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > peak.Load() {
				peak.Store(fi.Size())
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	var reads atomic.Int64
	for r := range 2 { // two readers whose transactions overlap
		bg.Go(func() {
			time.Sleep(time.Duration(r) * 1500 * time.Microsecond)
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.read(ctx, func(tx *sql.Tx) error {
					var n int64
					if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM backend_state WHERE backend = 'bind' AND state = 'pending'").Scan(&n); err != nil {
						return err
					}
					time.Sleep(3 * time.Millisecond) // the snapshot stays held
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		})
	}

	// Push until the log has been restarted a few times: every restart
	// means the file passed the bound again.
	var pushed atomic.Int64
	var versions sync.Map
	var pushers sync.WaitGroup
	for range 8 {
		pushers.Go(func() {
			for s.ckpt.restarted.Load() < 4 || pushed.Load() < 500 {
				if time.Now().After(deadline) {
					t.Errorf("after %d pushes the log was restarted %d times (%d gave up), want 4", pushed.Load(), s.ckpt.restarted.Load(), s.ckpt.failed.Load())
					return
				}
				i := pushed.Add(1)
				name := fmt.Sprintf("z%d.example", i%2000)
				z, err := s.Put(ctx, store.Zone{Name: name, Canonical: zoneText(name, uint32(i), 40), Original: zoneText(name, uint32(i), 40), OwnerHost: "da1"})
				if err != nil {
					t.Error(err)
					return
				}
				for { // last acknowledged version wins
					old, loaded := versions.LoadOrStore(name, z.Version)
					if !loaded || old.(int64) >= z.Version || versions.CompareAndSwap(name, old, z.Version) {
						break
					}
				}
			}
		})
	}
	pushers.Wait()
	// Readers still run: the last commits must also end under the bound.
	var size int64 = -1
	for time.Now().Before(deadline) {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if size = fi.Size(); size <= bound {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	bg.Wait()
	t.Logf("%d pushes, %d reads, %d restarts (%d gave up), -wal peak %.1f MiB (bound %.1f MiB), at the end %.1f MiB",
		pushed.Load(), reads.Load(), s.ckpt.restarted.Load(), s.ckpt.failed.Load(),
		float64(peak.Load())/(1<<20), float64(bound)/(1<<20), float64(size)/(1<<20))
	if t.Failed() {
		return
	}
	if size < 0 || size > bound {
		t.Fatalf("-wal file %d bytes after the pushes, bound %d", size, bound)
	}
	// Between two checks the log grows by the frames of a few commits, not
	// by the many bounds' worth pushed. A RESTART that gave up (a reader
	// descheduled past restartWait on a loaded machine) lets it grow until
	// the next try: then only the end state above is asserted.
	if p := peak.Load(); p > 3*bound && s.ckpt.failed.Load() == 0 {
		t.Errorf("-wal file peaked at %d bytes, bound %d, with no restart given up", p, bound)
	}
	// Nothing acknowledged was lost to the checkpoints.
	var names []string
	versions.Range(func(k, _ any) bool { names = append(names, k.(string)); return true })
	held, err := s.Zones(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	versions.Range(func(k, v any) bool {
		if z, ok := held[k.(string)]; !ok || z.Version < v.(int64) {
			t.Errorf("%s: held version %d, acknowledged %d", k, z.Version, v)
		}
		return true
	})
}

// TestWALLongReader holds one read transaction open (a reconciliation
// pass, an export) while pushes go on past the bound: the RESTART gives up
// after a short wait instead of stalling the pushes for the reader's
// whole life, pushes keep being acknowledged, and once the reader ends
// (the pushes ended just before) the log is brought back within the bound
// without any further commit.
func TestWALLongReader(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes many MiB")
	}
	const bound = 1 << 20
	ctx := context.Background()
	s, path := openBounded(t, bound)
	if err := s.Forget(ctx, []string{"bind"}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "first.example", 1)

	deadline := time.Now().Add(60 * time.Second)
	var pushed atomic.Int64
	stop := make(chan struct{})
	var pushers sync.WaitGroup
	for range 8 {
		pushers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := pushed.Add(1)
				name := fmt.Sprintf("z%d.example", i%500)
				if _, err := s.Put(ctx, store.Zone{Name: name, Canonical: zoneText(name, uint32(i), 40), OwnerHost: "da1"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// The long reader: one snapshot held until the log is well past the
	// bound and a restart has given up on it.
	var during int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		var v int64
		if err := tx.QueryRowContext(ctx, "SELECT version FROM zones WHERE name = 'first.example'").Scan(&v); err != nil {
			return err
		}
		start := pushed.Load()
		for s.ckpt.failed.Load() == 0 || walSize(t, path) < 3*bound {
			if time.Now().After(deadline) {
				return fmt.Errorf("with a reader open: %d pushes, %d restarts given up, -wal %d bytes", pushed.Load()-start, s.ckpt.failed.Load(), walSize(t, path))
			}
			time.Sleep(5 * time.Millisecond)
		}
		during = pushed.Load() - start
		close(stop)
		pushers.Wait()
		return nil
	})
	if err != nil {
		select {
		case <-stop:
		default:
			close(stop)
		}
		pushers.Wait()
		t.Fatal(err)
	}
	// The reader is gone, and so are the pushes: no commit comes to kick
	// the checkpoints, and still the log is brought within the bound.
	restarts := s.ckpt.restarted.Load()
	for s.ckpt.restarted.Load() == restarts && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	size := walSize(t, path)
	for size > bound && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		size = walSize(t, path)
	}
	t.Logf("%d pushes while the reader held its snapshot; %d restarts given up, %d done; -wal at the end %d bytes (bound %d)",
		during, s.ckpt.failed.Load(), s.ckpt.restarted.Load(), size, bound)
	if s.ckpt.restarted.Load() == restarts {
		t.Fatal("no restart after the reader ended")
	}
	if size > bound {
		t.Fatalf("-wal %d bytes after the reader ended, bound %d", size, bound)
	}
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// openBounded opens a store in a temporary directory with the -wal bound
// given, closed when the test ends; it returns the store and its path.
func openBounded(t *testing.T, bound int64) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dadns.db")
	s, err := Open(context.Background(), path, Options{walBound: bound})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}
