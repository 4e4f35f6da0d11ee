package sqlite

import (
	"github.com/dadns/dadns/internal/store"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

func (s *Store) ZonePage(ctx context.Context, q store.ZoneQuery) (store.ZonePage, error) {
	where, args, err := zoneFilter(q)
	if err != nil {
		return store.ZonePage{}, fmt.Errorf("store: zone page: %w", err)
	}
	order, orderArgs, err := zoneOrder(q)
	if err != nil {
		return store.ZonePage{}, fmt.Errorf("store: zone page: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var page store.ZonePage
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM zones WHERE "+where, args...).Scan(&page.Total); err != nil {
			return err
		}
		names, err := pageNames(ctx, tx, "SELECT name FROM zones WHERE "+where+" ORDER BY "+order+" LIMIT ? OFFSET ?",
			append(append(args, orderArgs...), limit, max(q.Offset, 0)))
		if err != nil || len(names) == 0 {
			return err
		}
		page.Zones, err = zonesInOrder(ctx, tx, names)
		return err
	})
	if err != nil {
		return store.ZonePage{}, fmt.Errorf("store: zone page: %w", err)
	}
	return page, nil
}

func zoneFilter(q store.ZoneQuery) (string, []any, error) {
	conds, args := []string{"deleted = 0"}, []any{}
	if s := strings.ToLower(strings.TrimSpace(q.Search)); s != "" {
		conds, args = append(conds, "instr(name, ?) > 0"), append(args, s)
	}
	if q.OwnerHost != "" {
		conds, args = append(conds, "owner_host = ?"), append(args, q.OwnerHost)
	}
	if q.OwnerUser != "" {
		conds, args = append(conds, "owner_user = ?"), append(args, q.OwnerUser)
	}
	switch q.State {
	case "":
	case store.FilterFailing:
		conds = append(conds, stateIn("'failed', 'permanent'"))
	case store.FilterBehind:
		conds = append(conds, stateIn("'pending'"))
	default:
		return "", nil, fmt.Errorf("unknown state filter %q (use failing or behind)", q.State)
	}
	return strings.Join(conds, " AND "), args, nil
}

func stateIn(states string) string {
	return "name IN (SELECT zone FROM backend_state WHERE backend IN (SELECT name FROM backends) AND state IN (" + states + "))"
}

func zoneOrder(q store.ZoneQuery) (string, []any, error) {
	var order string
	switch q.Sort {
	case "", "name":
		order = "name"
	case "-name":
		order = "name DESC"
	case "updated":
		order = "updated DESC, name"
	case "-updated":
		order = "updated, name"
	default:
		return "", nil, fmt.Errorf("unknown sort %q (use name, -name, updated or -updated)", q.Sort)
	}
	s := strings.ToLower(strings.TrimSpace(q.Search))
	if s == "" || strings.HasPrefix(order, "updated") {
		return order, nil, nil
	}
	// Names that start with the search come first.
	return "substr(name, 1, ?) <> ?, " + order, []any{len(s), s}, nil
}

func pageNames(ctx context.Context, tx *sql.Tx, query string, args []any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

func zonesInOrder(ctx context.Context, tx *sql.Tx, names []string) ([]store.Zone, error) {
	byName := make(map[string]store.Zone, len(names))
	q := "SELECT " + metaCols + " FROM zones WHERE name IN (" + placeholders(len(names)) + ")"
	if err := collect(ctx, tx, q, anys(names), false, func(z store.Zone) { byName[z.Name] = z }); err != nil {
		return nil, err
	}
	out := make([]store.Zone, 0, len(names))
	for _, n := range names {
		if z, ok := byName[n]; ok {
			out = append(out, z)
		}
	}
	return out, nil
}

func (s *Store) StatesOf(ctx context.Context, zones []string) (map[string][]store.BackendState, error) {
	out := map[string][]store.BackendState{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		for _, part := range chunks(store.NormNames(zones), inChunk) {
			if err := statesIn(ctx, tx, part, out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: states: %w", err)
	}
	return out, nil
}

func statesIn(ctx context.Context, tx *sql.Tx, names []string, out map[string][]store.BackendState) error {
	rows, err := tx.QueryContext(ctx, `
		SELECT backend, zone, state, desired_version, applied_version, applied_hash, applied_at,
		       attempts, last_error, failed_at, next_attempt
		FROM backend_state WHERE zone IN (`+placeholders(len(names))+`) ORDER BY zone, backend`, anys(names)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanBackendState(rows)
		if err != nil {
			return err
		}
		out[st.Zone] = append(out[st.Zone], st)
	}
	return rows.Err()
}

func (s *Store) RecentFailures(ctx context.Context, limit int) ([]store.BackendState, int, error) {
	if limit <= 0 {
		limit = 200
	}
	const where = ` FROM backend_state WHERE backend IN (SELECT name FROM backends) AND state IN ('failed', 'permanent')`
	var out []store.BackendState
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT count(*)"+where).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT backend, zone, state, desired_version, applied_version, applied_hash, applied_at,
			       attempts, last_error, failed_at, next_attempt FROM backend_state INDEXED BY backend_state_next
			WHERE backend IN (SELECT name FROM backends) AND state IN ('failed', 'permanent')
			ORDER BY failed_at DESC, zone, backend LIMIT ?`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			st, err := scanBackendState(rows)
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: recent failures: %w", err)
	}
	return out, total, nil
}

// historyPruneEvery is how often (in versions of a zone) its history is
// pruned back to store.HistoryLength entries: it holds fewer than
// HistoryLength+historyPruneEvery.
const historyPruneEvery = 8

func recordHistory(ctx context.Context, tx *sql.Tx, z store.Zone) error {
	// OR REPLACE: a version has one entry; should an older database hold
	// one for this version already, the push is not refused for it.
	_, err := tx.ExecContext(ctx, `
		INSERT OR REPLACE INTO zone_history (zone, version, at, deleted, serial, owner_host, owner_user)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		z.Name, z.Version, store.UnixNano(z.Updated), z.Deleted, z.Serial, z.OwnerHost, z.OwnerUser)
	if err != nil {
		return err
	}
	if z.Version <= store.HistoryLength || z.Version%historyPruneEvery != 0 {
		// A name has at most one history entry per version it had, so it
		// has nothing to prune yet; past that, every historyPruneEvery-th
		// version prunes (History reads the latest HistoryLength only),
		// sparing the other pushes a statement and the pages it writes.
		return nil
	}
	_, err = tx.ExecContext(ctx, "DELETE FROM zone_history WHERE zone = ? AND version <= ?",
		z.Name, z.Version-store.HistoryLength)
	return err
}

func (s *Store) History(ctx context.Context, zone string) ([]store.HistoryEntry, error) {
	n, err := store.NormName(zone)
	if err != nil {
		return nil, fmt.Errorf("store: history %q: %w", zone, err)
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT version, at, deleted, serial, owner_host, owner_user FROM zone_history
		WHERE zone = ? ORDER BY version DESC LIMIT ?`, n, store.HistoryLength)
	if err != nil {
		return nil, fmt.Errorf("store: history %s: %w", n, err)
	}
	defer rows.Close()
	var out []store.HistoryEntry
	for rows.Next() {
		var h store.HistoryEntry
		var at int64
		if err := rows.Scan(&h.Version, &at, &h.Deleted, &h.Serial, &h.OwnerHost, &h.OwnerUser); err != nil {
			return nil, fmt.Errorf("store: history %s: %w", n, err)
		}
		h.At = store.FromUnixNano(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *Store) RetryZoneNow(ctx context.Context, zone string) (int, error) {
	n, err := store.NormName(zone)
	if err != nil {
		return 0, fmt.Errorf("store: retry %q: %w", zone, err)
	}
	now := store.UnixNano(s.now())
	var changed int64
	err = s.writeRelaxed(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE backend_state SET next_attempt = ?
			WHERE zone = ? AND state = 'failed' AND next_attempt > ?`, now, n, now)
		if err != nil {
			return err
		}
		changed, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry %s: %w", n, err)
	}
	return int(changed), nil
}

func (s *Store) ResyncOn(ctx context.Context, zone, backend string) error {
	n, err := store.NormName(zone)
	if err != nil {
		return fmt.Errorf("store: resync %q on %s: %w", zone, backend, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE backend_state SET state = 'pending', applied_version = 0, applied_hash = '',
				attempts = 0, next_attempt = 0
			WHERE backend = ? AND zone = ? AND zone IN (SELECT name FROM zones WHERE name = ? AND deleted = 0)`,
			backend, n, n)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: resync %s on %s: %w", n, backend, err)
	}
	return nil
}

func (s *Store) SizeBytes(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return n, nil
}
