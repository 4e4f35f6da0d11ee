package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/store"
)

var _ store.Cluster = (*Store)(nil)

// Heartbeat records that n is alive now.
func (s *Store) Heartbeat(ctx context.Context, n store.Node) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO nodes (id, version, addr, started, last_seen) VALUES (?, ?, ?, ?, ?)
			ON DUPLICATE KEY UPDATE version = VALUES(version), addr = VALUES(addr),
				started = VALUES(started), last_seen = VALUES(last_seen)`,
			n.ID, n.Version, n.Addr, store.UnixNano(n.Started), store.UnixNano(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: heartbeat %s: %w", n.ID, err)
	}
	return nil
}

// Nodes lists every node that ever heartbeated, by ID.
func (s *Store) Nodes(ctx context.Context) ([]store.Node, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, version, addr, started, last_seen FROM nodes ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	defer rows.Close()
	var out []store.Node
	for rows.Next() {
		var n store.Node
		var started, seen int64
		if err := rows.Scan(&n.ID, &n.Version, &n.Addr, &started, &seen); err != nil {
			return nil, fmt.Errorf("store: nodes: %w", err)
		}
		n.Started, n.LastSeen = store.FromUnixNano(started), store.FromUnixNano(seen)
		out = append(out, n)
	}
	return out, rows.Err()
}

// ForgetNode drops a node and its local backends' state.
func (s *Store) ForgetNode(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("store: forget node: empty id")
	}
	if err := s.forget(ctx, nil, "@"+id); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM nodes WHERE id = ?", id)
		return err
	})
}

// ForgetSuffix is Forget limited to the instances whose names end in suffix.
func (s *Store) ForgetSuffix(ctx context.Context, suffix string, keep []string) error {
	if suffix == "" {
		return errors.New("store: forget backends: empty suffix")
	}
	return s.forget(ctx, keep, suffix)
}

// Claim takes up to limit due zones of a shared backend for node. The
// candidates are read without locks; each is then claimed by an UPDATE
// that repeats the conditions (still at that version, unclaimed or claimed
// by node, or the claim expired), and only rows the UPDATE changed are
// returned. Two nodes racing on one server: the second UPDATE waits for the
// first's row lock, then matches nothing. On two Galera nodes: both UPDATEs
// succeed locally, the later commit fails certification (1213), and the
// retry sees the winner's claim.
func (s *Store) Claim(ctx context.Context, backend, node string, lease time.Duration, limit int) ([]store.Work, time.Time, error) {
	if node == "" {
		return nil, time.Time{}, errors.New("store: claim: empty node")
	}
	if limit <= 0 {
		limit = defaultLimit
	}
	if err := s.ensureBackend(ctx, backend); err != nil {
		return nil, time.Time{}, fmt.Errorf("store: claim %s: %w", backend, err)
	}
	var got []store.Work
	var next time.Time
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.UnixNano(s.now())
		cand, err := dueRows(ctx, tx, backend, now, limit, node)
		if err != nil {
			return err
		}
		got = got[:0]
		until := now + int64(lease)
		for _, w := range cand {
			ok, err := claimRow(ctx, tx, backend, node, w.Zone, now, until)
			if err != nil {
				return err
			}
			if ok {
				got = append(got, w)
			}
		}
		next, err = nextAttempt(ctx, tx, backend, now)
		if err != nil {
			return err
		}
		expiry, err := nextExpiry(ctx, tx, backend, node, now)
		if !expiry.IsZero() && (next.IsZero() || expiry.Before(next)) {
			next = expiry
		}
		return err
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: claim %s: %w", backend, err)
	}
	return got, next, nil
}

// nextExpiry is when the first claim another node holds on work still
// behind expires: the caller looks again then, to take over a dead node's
// work without waiting for its idle poll.
func nextExpiry(ctx context.Context, tx *sql.Tx, backend, node string, now int64) (time.Time, error) {
	var until sql.NullInt64
	err := tx.QueryRowContext(ctx, `
		SELECT min(claim_until) FROM backend_state
		WHERE backend = ? AND claimed_by NOT IN ('', ?) AND claim_until >= ?
		  AND state IN ('pending', 'failed')`, backend, node, now).Scan(&until)
	if err != nil || !until.Valid {
		return time.Time{}, err
	}
	// claim_until < now is the takeover test: one nanosecond past it.
	return store.FromUnixNano(until.Int64 + 1), nil
}

func claimRow(ctx context.Context, tx *sql.Tx, backend, node string, z store.Zone, now, until int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE backend_state SET claimed_by = ?, claim_until = ?
		WHERE backend = ? AND zone = ? AND desired_version = ? AND applied_version < desired_version
		  AND (claimed_by IN ('', ?) OR claim_until < ?)`,
		node, until, backend, z.Name, z.Version, node, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// release drops any claim on zone for backend: the claimer recorded its
// outcome, whatever version it was for.
func release(ctx context.Context, tx *sql.Tx, backend, zone string) error {
	zone, err := store.NormName(zone)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE backend_state SET claimed_by = '', claim_until = 0
		WHERE backend = ? AND zone = ? AND claimed_by != ''`, backend, zone)
	return err
}

// LastChange is the highest push sequence number stored (an index lookup).
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT max(seq) FROM zones").Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: last change: %w", err)
	}
	return seq.Int64, nil
}

// AcquireLease takes or renews the named lease for holder until now+ttl.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var ok bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.UnixNano(s.now())
		var cur string
		var until int64
		err := tx.QueryRowContext(ctx, "SELECT holder, until FROM leases WHERE name = ? FOR UPDATE", name).Scan(&cur, &until)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)", name, holder, now+int64(ttl))
			ok = err == nil
			return err
		case err != nil:
			return err
		case cur != holder && until >= now:
			ok = false
			return nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE leases SET holder = ?, until = ? WHERE name = ?", holder, now+int64(ttl), name)
		ok = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return ok, nil
}
