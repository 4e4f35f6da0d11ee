package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// Delete tombstones the zone: Version+1, texts and hash cleared, owner and
// serial kept, and the tombstone due for every backend.
func (s *Store) Delete(ctx context.Context, name string) (store.Zone, error) {
	return s.deleteIf(ctx, name, func(store.Zone) error { return nil })
}

// DeleteIfCurrent tombstones the zone only if its live row still has
// version and ownerHost, checked under the row lock in the deleting
// transaction (on Galera, a concurrent change fails certification and the
// check runs again on the new row).
func (s *Store) DeleteIfCurrent(ctx context.Context, name string, version int64, ownerHost string) (store.Zone, error) {
	return s.deleteIf(ctx, name, func(cur store.Zone) error {
		if cur.Version != version || cur.OwnerHost != ownerHost {
			return fmt.Errorf("%w: now version %d owned by %q, expected version %d owned by %q",
				store.ErrChanged, cur.Version, cur.OwnerHost, version, ownerHost)
		}
		return nil
	})
}

// deleteIf tombstones the live row of name if check accepts it.
func (s *Store) deleteIf(ctx context.Context, name string, check func(store.Zone) error) (store.Zone, error) {
	n, err := store.NormName(name)
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: delete %q: %w", name, err)
	}
	var z store.Zone
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if z, err = lookup(ctx, tx, n, " FOR UPDATE"); err != nil {
			return err
		}
		if z.Deleted {
			return fmt.Errorf("already deleted: %w", store.ErrNotFound)
		}
		if err := check(z); err != nil {
			return err
		}
		z.Version++
		z.Deleted, z.Canonical, z.Original, z.Hash = true, "", "", ""
		z.Updated = store.FromUnixNano(store.UnixNano(s.now()))
		return tombstone(ctx, tx, z, s.nextSeq())
	})
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: delete %s: %w", n, err)
	}
	return z, nil
}

// tombstone writes z (a tombstone) and makes it due.
func tombstone(ctx context.Context, tx *sql.Tx, z store.Zone, seq int64) error {
	_, err := tx.ExecContext(ctx, `
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
