package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/dadns/dadns/internal/store"
)

// recordChunk bounds the rows one bookkeeping transaction writes: between
// chunks the writer lock is free, so a push waits for at most one chunk
// rather than for a whole batch of 500 zones.
const recordChunk = 64

// store.Applied records that backend now serves each zone at its version,
// in transactions of up to recordChunk zones (a crash between them leaves
// the rest due: they are applied again). applied_version never moves backwards, and a record for a
// version older than the desired one (a newer push arrived meanwhile) keeps
// the zone due. Records for versions the store never issued, and for zones
// purged meanwhile, are ignored.
func (s *Store) Applied(ctx context.Context, backend string, done []store.Applied) error {
	if len(done) == 0 {
		return nil
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return fmt.Errorf("store: applied %s: %w", backend, err)
	}
	now := store.UnixNano(s.now())
	for part := range slices.Chunk(done, recordChunk) {
		err := s.writeRelaxed(ctx, func(tx *sql.Tx) error {
			for _, a := range part {
				if err := applied(ctx, tx, backend, a, now); err != nil {
					return fmt.Errorf("%s: %w", a.Name, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: applied %s: %w", backend, err)
		}
	}
	return nil
}

func applied(ctx context.Context, tx *sql.Tx, backend string, a store.Applied, now int64) error {
	name, err := store.NormName(a.Name)
	if err != nil {
		return err
	}
	// ?3 >= desired_version is the "caught up" case; otherwise only the
	// applied columns move and the row stays pending or failed.
	_, err = tx.ExecContext(ctx, `
		UPDATE backend_state SET
			applied_version = ?3, applied_hash = ?4, applied_at = ?5,
			state        = CASE WHEN ?3 >= desired_version THEN 'applied' ELSE state END,
			attempts     = CASE WHEN ?3 >= desired_version THEN 0 ELSE attempts END,
			next_attempt = CASE WHEN ?3 >= desired_version THEN 0 ELSE next_attempt END,
			last_error   = CASE WHEN ?3 >= desired_version THEN '' ELSE last_error END
		WHERE backend = ?1 AND zone = ?2 AND applied_version < ?3 AND ?3 <= desired_version`,
		backend, name, a.Version, a.Hash, now)
	return err
}

// Failed records failures for backend (in transactions of up to
// recordChunk zones): attempts+1, the
// error, the next attempt, and state failed or permanent. A failure of a
// version that is no longer the desired one is ignored: the newer version
// is already pending with a fresh schedule.
func (s *Store) Failed(ctx context.Context, backend string, fails []store.Failure) error {
	if len(fails) == 0 {
		return nil
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return fmt.Errorf("store: failed %s: %w", backend, err)
	}
	now := store.UnixNano(s.now())
	for part := range slices.Chunk(fails, recordChunk) {
		err := s.writeRelaxed(ctx, func(tx *sql.Tx) error {
			for _, f := range part {
				if err := failed(ctx, tx, backend, f, now); err != nil {
					return fmt.Errorf("%s: %w", f.Name, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: failed %s: %w", backend, err)
		}
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
