package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// Delete tombstones the zone: Version+1, Canonical/Original/Hash cleared,
// owner and serial kept, and the tombstone due for every backend so each
// removes the zone. store.ErrNotFound when the name is absent or already deleted.
func (s *Store) Delete(ctx context.Context, name string) (store.Zone, error) {
	n, err := store.NormName(name)
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: delete %q: %w", name, err)
	}
	now := store.FromUnixNano(store.UnixNano(s.now()))
	var z store.Zone
	err = s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		z, err = deleteTx(ctx, tx, n)
		if err != nil {
			return err
		}
		z.Updated = now
		return s.tombstone(ctx, tx, z)
	})
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: delete %s: %w", n, err)
	}
	return z, nil
}

// deleteTx returns the live row of name turned into its next tombstone
// (not yet written).
func deleteTx(ctx context.Context, tx *sql.Tx, name string) (store.Zone, error) {
	z, err := lookup(ctx, tx, name)
	if err != nil {
		return store.Zone{}, err
	}
	if z.Deleted {
		return store.Zone{}, fmt.Errorf("already deleted: %w", store.ErrNotFound)
	}
	z.Version++
	z.Deleted, z.Canonical, z.Original, z.Hash = true, "", "", ""
	return z, nil
}

// tombstone writes z (a tombstone) and makes it due.
func (s *Store) tombstone(ctx context.Context, tx *sql.Tx, z store.Zone) error {
	seq, err := s.nextSeq(ctx, tx)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE zones SET version = ?, seq = ?, deleted = 1, hash = '',
			canonical = '', original = '', updated = ?
		WHERE name = ?`, z.Version, seq, store.UnixNano(z.Updated), z.Name)
	if err != nil {
		return err
	}
	if err := recordHistory(ctx, tx, z); err != nil {
		return err
	}
	return markDue(ctx, tx, z.Name, z.Version, seq)
}

// DeleteIfCurrent is Delete as a compare-and-set: it tombstones the zone
// only if its live row still has exactly version and ownerHost (as stored,
// compared byte for byte), checked and tombstoned in one transaction. A row
// that moved on (a newer push, an ownership transfer) returns store.ErrChanged and
// stays as it is; an absent or tombstoned name returns ErrNotFound. Callers
// read the row, decide the delete is allowed, then call this with what they
// read, and decide afresh on store.ErrChanged.
func (s *Store) DeleteIfCurrent(ctx context.Context, name string, version int64, ownerHost string) (store.Zone, error) {
	n, err := store.NormName(name)
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: delete %q: %w", name, err)
	}
	now := store.FromUnixNano(store.UnixNano(s.now()))
	var z store.Zone
	err = s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		z, err = deleteTx(ctx, tx, n)
		if err != nil {
			return err
		}
		if z.Version-1 != version || z.OwnerHost != ownerHost {
			return fmt.Errorf("%w: now version %d owned by %q, expected version %d owned by %q",
				store.ErrChanged, z.Version-1, z.OwnerHost, version, ownerHost)
		}
		z.Updated = now
		return s.tombstone(ctx, tx, z)
	})
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: delete %s: %w", n, err)
	}
	return z, nil
}
