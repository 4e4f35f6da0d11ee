package mysql

import (
	"context"
	"database/sql"
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

// maybeFill adds the missing rows of backend when a fill is due.
func (s *Store) maybeFill(ctx context.Context, backend string) error {
	if !s.fill.due(backend, s.now()) {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error { return fillMissing(ctx, tx, backend) })
}

// fillMissing gives a registered backend a pending row for every zone it
// has none for.
func fillMissing(ctx context.Context, tx *sql.Tx, backend string) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO backend_state (backend, zone, desired_version, seq, state, last_error)
		SELECT b.name, z.name, z.version, z.seq, 'pending', '' FROM backends b JOIN zones z
		WHERE b.name = ? AND NOT EXISTS (
			SELECT 1 FROM backend_state bs WHERE bs.backend = b.name AND bs.zone = z.name)
		ON DUPLICATE KEY UPDATE backend_state.backend = backend_state.backend`, backend)
	return err
}

var _ store.Store = (*Store)(nil)
