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
		saved, err = s.putTx(ctx, tx, z, now)
		return err
	})
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: put %s: %w", z.Name, err)
	}
	return saved, nil
}

// putTx writes z as the next version of its name inside tx (the caller
// holds wmu: s.write or a group commit).
func (s *Store) putTx(ctx context.Context, tx *sql.Tx, z store.Zone, now time.Time) (store.Zone, error) {
	seq, err := s.nextSeq(ctx, tx)
	if err != nil {
		return store.Zone{}, err
	}
	z.Updated = now
	var created int64
	args := []any{z.Name, seq, z.Hash, z.Serial, z.OwnerHost, z.OwnerUser, store.UnixNano(now), z.Canonical, z.Original}
	err = tx.QueryRowContext(ctx, upsertSameOwner, args...).Scan(&z.Version, &created)
	if errors.Is(err, sql.ErrNoRows) {
		// A tombstone comes back, or the zone changes hands.
		err = tx.QueryRowContext(ctx, upsertZone, args...).Scan(&z.Version, &created)
	}
	if err != nil {
		return store.Zone{}, err
	}
	z.Created = store.FromUnixNano(created)
	if err := recordHistory(ctx, tx, z); err != nil {
		return store.Zone{}, err
	}
	if z.Version > 1 && created == store.UnixNano(now) {
		// A new life of the name: its version may have come from a
		// purged tombstone, whose record is done with. (A live zone
		// first pushed at this very instant comes here too, harmlessly.)
		if _, err := tx.ExecContext(ctx, "DELETE FROM retired WHERE name = ?", z.Name); err != nil {
			return store.Zone{}, err
		}
	}
	return z, markDue(ctx, tx, z.Name, z.Version, seq)
}

// insertZone is the insert both upserts start with: a new row's version
// continues a purged tombstone's (retired) or starts at 1. Arguments: name,
// seq, hash, serial, owner host, owner user, now (created and updated),
// canonical, original.
const insertZone = `
	INSERT INTO zones (name, version, seq, deleted, hash, serial, owner_host, owner_user,
	                   created, updated, canonical, original)
	VALUES (?1, coalesce((SELECT version FROM retired WHERE name = ?1), 0) + 1,
	        ?2, 0, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)`

// upsertSameOwner is upsertZone for the common push: a new name, or a new
// version of a live zone with the same owner. Its update sets only the
// columns that change: SQLite rewrites the entries of every index on a
// column an UPDATE sets, changed or not, and deleted and the owner are in
// zones_live and zones_owner (two index pages fewer written per push).
// Any other existing row is left alone and nothing is returned: the
// caller then runs upsertZone.
const upsertSameOwner = insertZone + `
	ON CONFLICT (name) DO UPDATE SET
		version = version + 1, seq = excluded.seq,
		hash = excluded.hash, serial = excluded.serial,
		updated = excluded.updated,
		canonical = excluded.canonical, original = excluded.original
	WHERE deleted = 0 AND owner_host = excluded.owner_host AND owner_user = excluded.owner_user
	RETURNING version, created`

// upsertZone inserts or replaces a zone's desired state in one statement:
// the version continues the row's, or for a new row a purged tombstone's
// (retired), or starts at 1; created is kept while the zone lives, and a
// tombstone's re-creation starts a new life. SET expressions see the row
// as it was before the statement. It returns the version and created.
const upsertZone = insertZone + `
	ON CONFLICT (name) DO UPDATE SET
		version = version + 1, seq = excluded.seq, deleted = 0,
		hash = excluded.hash, serial = excluded.serial,
		owner_host = excluded.owner_host, owner_user = excluded.owner_user,
		created = CASE WHEN deleted THEN excluded.created ELSE created END,
		updated = excluded.updated,
		canonical = excluded.canonical, original = excluded.original
	RETURNING version, created`

// markDue makes version of zone pending for every known backend, resetting
// any retry schedule: a newer push starts afresh.
func markDue(ctx context.Context, tx *sql.Tx, zone string, version, seq int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO backend_state (backend, zone, desired_version, seq, state)
		SELECT name, ?, ?, ?, 'pending' FROM backends WHERE true
		ON CONFLICT (zone, backend) DO UPDATE SET
			desired_version = excluded.desired_version, seq = excluded.seq,
			state = 'pending', attempts = 0, next_attempt = 0`,
		zone, version, seq)
	return err
}
