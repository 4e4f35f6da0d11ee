package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// A backend instance gets state rows the first time the store hears of it
// (Forget's keep list, or Due/store.Applied/Failed naming it). Registration
// creates one pending row per zone, live or tombstoned, which is what "a
// backend never seen has applied version 0" means: a new instance is filled
// automatically. A tombstone of a zone the instance never held is therefore
// due once; deleting an absent zone is a no-op for backends, and it also
// cleans an instance that held stale zones under a previous name.

// ensureBackend registers backend unless it already has state rows. A
// backend once seen registered is remembered (knownBackends), so that the
// worker's Due and Applied calls, several per push, do not each read the
// backends table again.
func (s *Store) ensureBackend(ctx context.Context, backend string) error {
	if backend == "" {
		return errors.New("empty backend name")
	}
	gen, known := s.known.has(backend)
	if known {
		return nil
	}
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM backends WHERE name = ?", backend).Scan(&one)
	if err == nil {
		s.known.add(backend, gen)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	err = s.write(ctx, func(tx *sql.Tx) error { return register(ctx, tx, backend, s.now()) })
	if err == nil {
		s.known.add(backend, gen)
	}
	return err
}

// knownBackends remembers the backend instances known to have state rows.
// Only Forget removes backends; it forgets them all here after its commit
// and moves gen on, so that a lookup that began before that commit does
// not remember what it saw then.
type knownBackends struct {
	mu    sync.Mutex
	gen   uint64
	names map[string]struct{}
}

// has reports whether name is known, and the generation to pass to add.
func (k *knownBackends) has(name string) (uint64, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.names[name]
	return k.gen, ok
}

// add remembers name, unless Forget ran since gen was read.
func (k *knownBackends) add(name string, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen {
		return
	}
	if k.names == nil {
		k.names = map[string]struct{}{}
	}
	k.names[name] = struct{}{}
}

// reset forgets every name.
func (k *knownBackends) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	k.names = nil
}

// register adds backend with every zone pending, unless it is known.
func register(ctx context.Context, tx *sql.Tx, backend string, now time.Time) error {
	res, err := tx.ExecContext(ctx,
		"INSERT INTO backends (name, added) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
		backend, store.UnixNano(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO backend_state (backend, zone, desired_version, seq, state)
		SELECT ?, name, version, seq, 'pending' FROM zones`, backend)
	return err
}

// Forget drops the state rows of every backend instance not in keep (the
// configured instances) and registers those in keep that are new, so their
// status is right before their worker first runs. A forgotten instance
// that comes back later starts from nothing: every zone is due again.
func (s *Store) Forget(ctx context.Context, keep []string) error {
	// Reset on the way out whatever happened: the write may have
	// committed even when it reports an error.
	defer s.known.reset()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := forgetOthers(ctx, tx, keep); err != nil {
			return err
		}
		for _, b := range keep {
			if b == "" {
				return errors.New("empty backend name")
			}
			if err := register(ctx, tx, b, s.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: forget backends: %w", err)
	}
	return nil
}

// forgetOthers deletes backends not in keep; their rows go by cascade.
func forgetOthers(ctx context.Context, tx *sql.Tx, keep []string) error {
	q := "DELETE FROM backends"
	if len(keep) > 0 {
		q += " WHERE name NOT IN (" + placeholders(len(keep)) + ")"
	}
	_, err := tx.ExecContext(ctx, q, anys(keep)...)
	return err
}
