package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// A push makes a zone due for the backends registered when it commits,
// and registering a backend makes due the zones present when it commits.
// On one server the two lock each other out; on Galera a push on one node
// and a registration on another touch different rows, both certify, and
// the zone would never be due for the new backend. So a backend's
// missing rows are filled again: often for a while after this process
// registered it, then once a minute, level-triggered like everything else.
const (
	fillSoon    = 2 * time.Second  // between fills right after a registration
	fillWindow  = 30 * time.Second // how long after a registration fills are frequent
	fillRoutine = time.Minute      // between fills otherwise
)

// filler remembers, per backend, when its rows were last filled.
type filler struct {
	mu         sync.Mutex
	next       map[string]time.Time
	registered map[string]time.Time
}

// registeredNow notes that this process registered backend at now.
func (f *filler) registeredNow(backend string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next == nil {
		f.next, f.registered = map[string]time.Time{}, map[string]time.Time{}
	}
	f.registered[backend] = now
	f.next[backend] = now.Add(fillSoon)
}

// due reports whether backend's rows should be filled at now, and if so
// schedules the next fill.
func (f *filler) due(backend string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next == nil {
		f.next, f.registered = map[string]time.Time{}, map[string]time.Time{}
	}
	if now.Before(f.next[backend]) {
		return false
	}
	gap := fillRoutine
	if now.Sub(f.registered[backend]) < fillWindow {
		gap = fillSoon
	}
	f.next[backend] = now.Add(gap)
	return true
}

// registeredHere lists the backends this process registered.
func (f *filler) registeredHere() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.registered))
	for b := range f.registered {
		out = append(out, b)
	}
	return out
}

// FillDue adds the missing rows of every backend this process registered
// whose fill is due, and returns how many rows it added. The cluster's
// change poll calls it and wakes the workers when it added any: a fill
// done only from Due waited for the worker's next pass, which, once the
// pushes stop, is its idle poll (30 s), and the raced zone stayed unserved
// until then.
func (s *Store) FillDue(ctx context.Context) (int, error) {
	total := 0
	for _, b := range s.fill.registeredHere() {
		if !s.fill.due(b, s.now()) {
			continue
		}
		var n int
		err := s.write(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = fillMissing(ctx, tx, b)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: fill %s: %w", b, err)
		}
		total += n
	}
	return total, nil
}

// maybeFill adds the missing rows of backend when a fill is due.
func (s *Store) maybeFill(ctx context.Context, backend string) error {
	if !s.fill.due(backend, s.now()) {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := fillMissing(ctx, tx, backend)
		return err
	})
}

// fillMissing gives a registered backend a pending row for every zone it
// has none for, and returns how many rows it added.
func fillMissing(ctx context.Context, tx *sql.Tx, backend string) (int, error) {
	return exec(ctx, tx, `
		INSERT INTO backend_state (backend, zone, desired_version, seq, state, last_error)
		SELECT b.name, z.name, z.version, z.seq, 'pending', '' FROM backends b JOIN zones z
		WHERE b.name = ? AND NOT EXISTS (
			SELECT 1 FROM backend_state bs WHERE bs.backend = b.name AND bs.zone = z.name)
		ON DUPLICATE KEY UPDATE backend_state.backend = backend_state.backend`, backend)
}

var _ store.Store = (*Store)(nil)
