package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// ensureBackend registers backend unless it already has state rows.
func (s *Store) ensureBackend(ctx context.Context, backend string) error {
	if backend == "" {
		return errors.New("empty backend name")
	}
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM backends WHERE name = ?", backend).Scan(&one)
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error { return register(ctx, tx, backend, s.now()) })
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
