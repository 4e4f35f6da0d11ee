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

// Heartbeat records that n is alive now, and measures the server's clock
// again (see clock.go).
func (s *Store) Heartbeat(ctx context.Context, n store.Node) error {
	if err := s.syncClock(ctx); err != nil {
		return fmt.Errorf("store: heartbeat %s: server clock: %w", n.ID, err)
	}
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

// ForgetNode removes node id: its row, its local backends and their state,
// and its claims and leases (released), in one transaction.
func (s *Store) ForgetNode(ctx context.Context, id string) (store.Forgotten, error) {
	if id == "" {
		return store.Forgotten{}, errors.New("store: forget node: empty id")
	}
	var f store.Forgotten
	err := s.write(ctx, func(tx *sql.Tx) error {
		f = store.Forgotten{}
		var err error
		if f.Backends, f.States, err = forgetOthers(ctx, tx, nil, "@"+id); err != nil {
			return err
		}
		if f.Claims, err = exec(ctx, tx, `UPDATE backend_state SET claimed_by = '', claim_until = 0
			WHERE claimed_by = ?`, id); err != nil {
			return err
		}
		if f.Leases, err = exec(ctx, tx, "UPDATE leases SET holder = '', until = 0 WHERE holder = ?", id); err != nil {
			return err
		}
		n, err := exec(ctx, tx, "DELETE FROM nodes WHERE id = ?", id)
		f.Node = n > 0
		return err
	})
	if err != nil {
		return store.Forgotten{}, fmt.Errorf("store: forget node %s: %w", id, err)
	}
	if f == (store.Forgotten{}) {
		return f, fmt.Errorf("store: forget node %s: %w", id, store.ErrNotFound)
	}
	return f, nil
}

// exec runs q in tx and returns the rows it matched.
func exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
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
	var until int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.UnixNano(s.now())
		cand, err := dueRows(ctx, tx, backend, now, limit, node)
		if err != nil {
			return err
		}
		got = got[:0]
		until = now + int64(lease)
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
	if err == nil && len(got) > 0 {
		got, err = s.claimedBack(ctx, backend, node, until, got)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: claim %s: %w", backend, err)
	}
	return got, next, nil
}

// claimedBack keeps the work whose claim the committed database shows:
// claimed by node until until, at the version claimed. It reads in a new
// transaction, causal on Galera, after the claim's COMMIT: there a COMMIT
// may return success for a transaction the node had already rolled back
// (see galera.go), and the rows are then another node's or nobody's.
func (s *Store) claimedBack(ctx context.Context, backend, node string, until int64, got []store.Work) ([]store.Work, error) {
	names := make([]string, len(got))
	for i, w := range got {
		names[i] = w.Zone.Name
	}
	held := map[string]int64{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		clear(held)
		rows, err := tx.QueryContext(ctx, `SELECT zone, desired_version FROM backend_state
			WHERE backend = ? AND claimed_by = ? AND claim_until = ? AND zone IN (`+placeholders(len(names))+`)`,
			append([]any{backend, node, until}, anys(names)...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var z string
			var v int64
			if err := rows.Scan(&z, &v); err != nil {
				return err
			}
			held[z] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	kept := got[:0]
	for _, w := range got {
		if v, ok := held[w.Zone.Name]; ok && v == w.Zone.Version {
			kept = append(kept, w)
		}
	}
	if len(kept) < len(got) && s.galera {
		s.lost.Add(1)
	}
	return kept, nil
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

// changeLookback is how long a push's transaction may take, from the
// sequence number it took to its COMMIT, and still be seen by Changes as
// a change (longer ones are applied at the workers' idle poll).
const changeLookback = time.Minute

// Changes compares, in one statement (one snapshot, a causal read on
// Galera), the digest of the zones whose sequence number is at least
// since.From with since's, and digests the zones from now-changeLookback
// for the next call. A push committed after one with a higher number
// changes the count or the XOR of the range even though max(seq) stays.
// Both ranges are index ranges over the pushes of the last minute or so.
func (s *Store) Changes(ctx context.Context, since store.ChangeMark) (store.ChangeMark, bool, error) {
	next := store.ChangeMark{From: store.UnixNano(s.now().Add(-changeLookback))}
	prev := since.From
	if prev == 0 {
		prev = next.From // nothing to compare with: one range
	}
	var old store.ChangeMark
	err := s.db.QueryRowContext(ctx, `
		SELECT count(CASE WHEN seq >= ? THEN 1 END), coalesce(bit_xor(CASE WHEN seq >= ? THEN seq END), 0),
		       count(CASE WHEN seq >= ? THEN 1 END), coalesce(bit_xor(CASE WHEN seq >= ? THEN seq END), 0)
		FROM zones WHERE seq >= ?`,
		prev, prev, next.From, next.From, min(prev, next.From)).Scan(&old.Count, &old.Xor, &next.Count, &next.Xor)
	if err != nil {
		return store.ChangeMark{}, false, fmt.Errorf("store: changes: %w", err)
	}
	changed := since.From == 0 || old.Count != since.Count || old.Xor != since.Xor
	return next, changed, nil
}

// AcquireLease takes or renews the named lease for holder until now+ttl.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var ok bool
	var mine int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.UnixNano(s.now())
		mine = now + int64(ttl)
		var cur string
		var until int64
		err := tx.QueryRowContext(ctx, "SELECT holder, until FROM leases WHERE name = ? FOR UPDATE", name).Scan(&cur, &until)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)", name, holder, mine)
			ok = err == nil
			return err
		case err != nil:
			return err
		case cur != holder && until >= now:
			ok = false
			return nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE leases SET holder = ?, until = ? WHERE name = ?", holder, mine, name)
		ok = err == nil
		return err
	})
	if err == nil && ok {
		ok, err = s.leaseHeld(ctx, name, holder, mine)
	}
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return ok, nil
}

// leaseHeld reads the committed lease back (causal on Galera), for the
// reason claimedBack does.
func (s *Store) leaseHeld(ctx context.Context, name, holder string, until int64) (bool, error) {
	var cur string
	var got int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT holder, until FROM leases WHERE name = ?", name).Scan(&cur, &got)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return cur == holder && got == until, err
}
