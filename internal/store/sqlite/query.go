package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dadns/dadns/internal/store"
)

// inChunk bounds the names bound into one IN list.
const inChunk = 500

// Live reports which of the given names exist and are not tombstoned, with
// one query per 500 names (for the `exists` ancestor walk). The map holds
// only found names, keyed by stored (lower-case, dotless) name; its zones
// carry metadata, not texts.
func (s *Store) Live(ctx context.Context, names []string) (map[string]store.Zone, error) {
	out, err := s.byNames(ctx, names, "deleted = 0 AND", false)
	if err != nil {
		return nil, fmt.Errorf("store: live: %w", err)
	}
	return out, nil
}

// Zones returns full rows (texts included) for the given names, live or
// tombstoned; names never seen are absent from the map.
func (s *Store) Zones(ctx context.Context, names []string) (map[string]store.Zone, error) {
	out, err := s.byNames(ctx, names, "", true)
	if err != nil {
		return nil, fmt.Errorf("store: zones: %w", err)
	}
	return out, nil
}

// warmNames is the most names a metadata lookup reads on the writer
// connection when it is free (see readWarm).
const warmNames = 8

// byNames selects the rows of names matching filter (a SQL prefix ending
// in AND, or "") in one snapshot.
func (s *Store) byNames(ctx context.Context, names []string, filter string, full bool) (map[string]store.Zone, error) {
	cols := metaCols
	if full {
		cols = fullCols
	}
	out := make(map[string]store.Zone)
	parts := chunks(store.NormNames(names), inChunk)
	if len(parts) == 1 {
		// One statement sees one snapshot by itself: no transaction needed
		// (a push's ownership check asks for one name).
		q := "SELECT " + cols + " FROM zones WHERE " + filter + " name IN (" + placeholders(len(parts[0])) + ")"
		args, keep := anys(parts[0]), func(z store.Zone) { out[z.Name] = z }
		if !full && len(parts[0]) <= warmNames {
			// A few rows by their key take microseconds: such a lookup
			// (a push's ownership check) runs to its end whatever its
			// context, as a write's statements do. With a context that can
			// end, database/sql and the driver each start a goroutine per
			// statement to watch it; the check comes first instead.
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ctx = context.WithoutCancel(ctx)
			warm, err := s.readWarm(func(q2 querier) error { return collect(ctx, q2, q, args, full, keep) })
			if warm {
				return out, err
			}
		}
		err := collect(ctx, s.db, q, args, full, keep)
		return out, err
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		for _, part := range parts {
			q := "SELECT " + cols + " FROM zones WHERE " + filter + " name IN (" + placeholders(len(part)) + ")"
			if err := collect(ctx, tx, q, anys(part), full, func(z store.Zone) { out[z.Name] = z }); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// List returns live zones' metadata (Canonical and Original empty), sorted
// by name.
func (s *Store) List(ctx context.Context) ([]store.Zone, error) {
	var out []store.Zone
	q := "SELECT " + metaCols + " FROM zones WHERE deleted = 0 ORDER BY name"
	if err := collect(ctx, s.db, q, nil, false, func(z store.Zone) { out = append(out, z) }); err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	return out, nil
}

// CountLive returns the number of live (not tombstoned) zones.
func (s *Store) CountLive(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM zones WHERE deleted = 0").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// collect runs a zone query and hands each row to fn.
func collect(ctx context.Context, q querier, query string, args []any, full bool, fn func(store.Zone)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		z, err := scanZone(rows, full)
		if err != nil {
			return err
		}
		fn(z)
	}
	return rows.Err()
}
