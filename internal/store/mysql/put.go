package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// Put stores a push in one transaction: the zone row (locked, so two
// pushes of one name on one server serialize; on Galera the later of two
// conflicting commits fails certification and is run again on top of the
// first) and one pending row per backend.
func (s *Store) Put(ctx context.Context, z store.Zone) (store.Zone, error) {
	z, err := store.PreparePut(z)
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: put %q: %w", z.Name, err)
	}
	var saved store.Zone
	err = s.write(ctx, func(tx *sql.Tx) error {
		now := store.FromUnixNano(store.UnixNano(s.now()))
		var err error
		saved, err = putTx(ctx, tx, z, now, s.nextSeq())
		return err
	})
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: put %s: %w", z.Name, err)
	}
	return saved, nil
}

// putTx writes z as the next version of its name inside tx.
func putTx(ctx context.Context, tx *sql.Tx, z store.Zone, now time.Time, seq int64) (store.Zone, error) {
	prev, err := previous(ctx, tx, z.Name)
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
		ON DUPLICATE KEY UPDATE
			version = VALUES(version), seq = VALUES(seq), deleted = 0,
			hash = VALUES(hash), serial = VALUES(serial),
			owner_host = VALUES(owner_host), owner_user = VALUES(owner_user),
			created = VALUES(created), updated = VALUES(updated),
			canonical = VALUES(canonical), original = VALUES(original)`,
		z.Name, z.Version, seq, z.Hash, z.Serial, z.OwnerHost, z.OwnerUser,
		store.UnixNano(z.Created), store.UnixNano(z.Updated), []byte(z.Canonical), []byte(z.Original))
	return err
}

// prevState is what a new version of a name builds on.
type prevState struct {
	version int64
	live    bool // a live (not tombstoned) row exists
	retired bool // the version came from a purged tombstone
	created time.Time
}

// previous returns the name's latest version, locking its row (or the gap
// where it would be) until the transaction ends.
func previous(ctx context.Context, tx *sql.Tx, name string) (prevState, error) {
	var p prevState
	var deleted bool
	var created int64
	err := tx.QueryRowContext(ctx, "SELECT version, deleted, created FROM zones WHERE name = ? FOR UPDATE", name).
		Scan(&p.version, &deleted, &created)
	if err == nil {
		p.live, p.created = !deleted, store.FromUnixNano(created)
		return p, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	err = tx.QueryRowContext(ctx, "SELECT version FROM retired WHERE name = ? FOR UPDATE", name).Scan(&p.version)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	p.retired = err == nil
	return p, err
}

// markDue makes version of zone pending for every known backend, resetting
// any retry schedule: a newer push starts afresh. A claim stays: the node
// applying the older version finishes before another node may apply the
// newer one, so two nodes never write one zone to a shared backend at once.
func markDue(ctx context.Context, tx *sql.Tx, zone string, version, seq int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO backend_state (backend, zone, desired_version, seq, state, last_error)
		SELECT name, ?, ?, ?, 'pending', '' FROM backends
		ON DUPLICATE KEY UPDATE
			desired_version = VALUES(desired_version), seq = VALUES(seq),
			state = 'pending', attempts = 0, next_attempt = 0`,
		zone, version, seq)
	return err
}
