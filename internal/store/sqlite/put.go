package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// Put stores a push: it inserts or replaces the zone's desired state
// (clearing a tombstone) with Version = previous Version+1 (1 for a new
// name) and makes the zone due for every backend. Hash is computed from
// Canonical; a non-empty z.Hash that disagrees is an error. z.Version,
// Created, Updated and Deleted are ignored. When Put returns a nil error the
// push is durable. It returns the stored row.
func (s *Store) Put(ctx context.Context, z store.Zone) (store.Zone, error) {
	z, err := store.PreparePut(z)
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: put %q: %w", z.Name, err)
	}
	now := store.FromUnixNano(store.UnixNano(s.now()))
	var saved store.Zone
	err = s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		saved, err = putTx(ctx, tx, z, now)
		return err
	})
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: put %s: %w", z.Name, err)
	}
	return saved, nil
}

// putTx writes z as the next version of its name inside tx.
func putTx(ctx context.Context, tx *sql.Tx, z store.Zone, now time.Time) (store.Zone, error) {
	prev, err := previous(ctx, tx, z.Name)
	if err != nil {
		return store.Zone{}, err
	}
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return store.Zone{}, err
	}
	z.Version, z.Updated, z.Created = prev.version+1, now, now
	if prev.live {
		z.Created = prev.created
	}
	if err := upsertZone(ctx, tx, z, seq); err != nil {
		return store.Zone{}, err
	}
	if err := recordHistory(ctx, tx, z); err != nil {
		return store.Zone{}, err
	}
	if prev.retired {
		if _, err := tx.ExecContext(ctx, "DELETE FROM retired WHERE name = ?", z.Name); err != nil {
			return store.Zone{}, err
		}
	}
	return z, markDue(ctx, tx, z.Name, z.Version, seq)
}

func upsertZone(ctx context.Context, tx *sql.Tx, z store.Zone, seq int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO zones (name, version, seq, deleted, hash, serial, owner_host, owner_user,
		                   created, updated, canonical, original)
		VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET
			version = excluded.version, seq = excluded.seq, deleted = 0,
			hash = excluded.hash, serial = excluded.serial,
			owner_host = excluded.owner_host, owner_user = excluded.owner_user,
			created = excluded.created, updated = excluded.updated,
			canonical = excluded.canonical, original = excluded.original`,
		z.Name, z.Version, seq, z.Hash, z.Serial, z.OwnerHost, z.OwnerUser,
		store.UnixNano(z.Created), store.UnixNano(z.Updated), z.Canonical, z.Original)
	return err
}

// prevState is what a new version of a name builds on.
type prevState struct {
	version int64
	live    bool // a live (not tombstoned) row exists
	retired bool // the version came from a purged tombstone
	created time.Time
}

// previous returns the name's latest version, from its row or, after a
// purge, from the retired table; version 0 for a name never seen.
func previous(ctx context.Context, tx *sql.Tx, name string) (prevState, error) {
	var p prevState
	var deleted bool
	var created int64
	err := tx.QueryRowContext(ctx, "SELECT version, deleted, created FROM zones WHERE name = ?", name).
		Scan(&p.version, &deleted, &created)
	if err == nil {
		p.live, p.created = !deleted, store.FromUnixNano(created)
		return p, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	err = tx.QueryRowContext(ctx, "SELECT version FROM retired WHERE name = ?", name).Scan(&p.version)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	p.retired = err == nil
	return p, err
}

// nextSeq returns the next global push sequence number. It orders work
// oldest-first independently of the wall clock.
func nextSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx,
		"UPDATE counters SET value = value + 1 WHERE name = 'push' RETURNING value").Scan(&seq)
	return seq, err
}

// markDue makes version of zone pending for every known backend, resetting
// any retry schedule: a newer push starts afresh.
func markDue(ctx context.Context, tx *sql.Tx, zone string, version, seq int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO backend_state (backend, zone, desired_version, seq, state)
		SELECT name, ?, ?, ?, 'pending' FROM backends WHERE true
		ON CONFLICT (backend, zone) DO UPDATE SET
			desired_version = excluded.desired_version, seq = excluded.seq,
			state = 'pending', attempts = 0, next_attempt = 0`,
		zone, version, seq)
	return err
}
