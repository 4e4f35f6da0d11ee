package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// Applied records that backend now serves each zone at its version, in one
// transaction, and releases the zones' claims.
func (s *Store) Applied(ctx context.Context, backend string, done []store.Applied) error {
	if len(done) == 0 {
		return nil
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return fmt.Errorf("store: applied %s: %w", backend, err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.UnixNano(s.now())
		for _, a := range done {
			if err := applied(ctx, tx, backend, a, now); err != nil {
				return fmt.Errorf("%s: %w", a.Name, err)
			}
			if err := release(ctx, tx, backend, a.Name); err != nil {
				return fmt.Errorf("%s: %w", a.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: applied %s: %w", backend, err)
	}
	return nil
}

func applied(ctx context.Context, tx *sql.Tx, backend string, a store.Applied, now int64) error {
	name, err := store.NormName(a.Name)
	if err != nil {
		return err
	}
	// MySQL evaluates SET assignments left to right with the new values, so
	// the "caught up" test is repeated against desired_version, which no
	// assignment changes, and state is set last.
	caught := "? >= desired_version"
	_, err = tx.ExecContext(ctx, `
		UPDATE backend_state SET
			attempts     = CASE WHEN `+caught+` THEN 0 ELSE attempts END,
			next_attempt = CASE WHEN `+caught+` THEN 0 ELSE next_attempt END,
			last_error   = CASE WHEN `+caught+` THEN '' ELSE last_error END,
			state        = CASE WHEN `+caught+` THEN 'applied' ELSE state END,
			applied_version = ?, applied_hash = ?, applied_at = ?
		WHERE backend = ? AND zone = ? AND applied_version < ? AND ? <= desired_version`,
		a.Version, a.Version, a.Version, a.Version,
		a.Version, a.Hash, now, backend, name, a.Version, a.Version)
	return err
}

// Failed records failures for backend in one transaction and releases the
// zones' claims.
func (s *Store) Failed(ctx context.Context, backend string, fails []store.Failure) error {
	if len(fails) == 0 {
		return nil
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return fmt.Errorf("store: failed %s: %w", backend, err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.UnixNano(s.now())
		for _, f := range fails {
			if err := failed(ctx, tx, backend, f, now); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			if err := release(ctx, tx, backend, f.Name); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: failed %s: %w", backend, err)
	}
	return nil
}

func failed(ctx context.Context, tx *sql.Tx, backend string, f store.Failure, now int64) error {
	name, err := store.NormName(f.Name)
	if err != nil {
		return err
	}
	state, next := store.StateFailed, store.UnixNano(f.Next)
	if f.Permanent {
		state, next = store.StatePermanent, 0
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE backend_state SET
			state = ?, attempts = attempts + 1, last_error = ?, failed_at = ?, next_attempt = ?
		WHERE backend = ? AND zone = ? AND desired_version = ? AND applied_version < desired_version`,
		string(state), f.Err, now, next, backend, name, f.Version)
	return err
}
