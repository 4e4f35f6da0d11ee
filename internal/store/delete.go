package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Delete tombstones the zone: Version+1, Canonical/Original/Hash cleared,
// owner and serial kept, and the tombstone due for every backend so each
// removes the zone. ErrNotFound when the name is absent or already deleted.
func (s *Store) Delete(ctx context.Context, name string) (Zone, error) {
	n, err := normName(name)
	if err != nil {
		return Zone{}, fmt.Errorf("store: delete %q: %w", name, err)
	}
	now := fromUnixNano(unixNano(s.now()))
	var z Zone
	err = s.grouped(ctx, func(tx *sql.Tx) error {
		var err error
		z, err = deleteTx(ctx, tx, n)
		if err != nil {
			return err
		}
		z.Updated = now
		return tombstone(ctx, tx, z)
	})
	if err != nil {
		return Zone{}, fmt.Errorf("store: delete %s: %w", n, err)
	}
	return z, nil
}

// deleteTx returns the live row of name turned into its next tombstone
// (not yet written).
func deleteTx(ctx context.Context, tx *sql.Tx, name string) (Zone, error) {
	z, err := lookup(ctx, tx, name)
	if err != nil {
		return Zone{}, err
	}
	if z.Deleted {
		return Zone{}, fmt.Errorf("already deleted: %w", ErrNotFound)
	}
	z.Version++
	z.Deleted, z.Canonical, z.Original, z.Hash = true, "", "", ""
	return z, nil
}

// tombstone writes z (a tombstone) and makes it due.
func tombstone(ctx context.Context, tx *sql.Tx, z Zone) error {
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE zones SET version = ?, seq = ?, deleted = 1, hash = '',
			canonical = '', original = '', updated = ?
		WHERE name = ?`, z.Version, seq, unixNano(z.Updated), z.Name)
	if err != nil {
		return err
	}
	if err := recordHistory(ctx, tx, z); err != nil {
		return err
	}
	return markDue(ctx, tx, z.Name, z.Version, seq)
}

// ErrChanged is returned (wrapped) by DeleteIfCurrent when the zone's row
// no longer has the version and owner the caller checked.
var ErrChanged = errors.New("store: changed since read")

// DeleteIfCurrent is Delete as a compare-and-set: it tombstones the zone
// only if its live row still has exactly version and ownerHost (as stored,
// compared byte for byte), checked and tombstoned in one transaction. A row
// that moved on (a newer push, an ownership transfer) returns ErrChanged and
// stays as it is; an absent or tombstoned name returns ErrNotFound. Callers
// read the row, decide the delete is allowed, then call this with what they
// read, and decide afresh on ErrChanged.
func (s *Store) DeleteIfCurrent(ctx context.Context, name string, version int64, ownerHost string) (Zone, error) {
	n, err := normName(name)
	if err != nil {
		return Zone{}, fmt.Errorf("store: delete %q: %w", name, err)
	}
	now := fromUnixNano(unixNano(s.now()))
	var z Zone
	err = s.grouped(ctx, func(tx *sql.Tx) error {
		var err error
		z, err = deleteTx(ctx, tx, n)
		if err != nil {
			return err
		}
		if z.Version-1 != version || z.OwnerHost != ownerHost {
			return fmt.Errorf("%w: now version %d owned by %q, expected version %d owned by %q",
				ErrChanged, z.Version-1, z.OwnerHost, version, ownerHost)
		}
		z.Updated = now
		return tombstone(ctx, tx, z)
	})
	if err != nil {
		return Zone{}, fmt.Errorf("store: delete %s: %w", n, err)
	}
	return z, nil
}
