package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dadns/dadns/internal/store"
)

// metaCols are the zone columns without the texts; fullCols add them.
var (
	metaCols = zoneCols("", false)
	fullCols = zoneCols("", true)
)

// zoneCols lists the columns scanZone reads, each prefixed (e.g. "z.").
func zoneCols(prefix string, full bool) string {
	cols := []string{"name", "version", "deleted", "hash", "serial", "owner_host", "owner_user", "created", "updated"}
	if full {
		cols = append(cols, "canonical", "original")
	}
	return prefix + strings.Join(cols, ", "+prefix)
}

// scanner is what *sql.Row and *sql.Rows share.
type scanner interface {
	Scan(dest ...any) error
}

// scanZone reads one row selected with metaCols, or fullCols when full.
func scanZone(sc scanner, full bool) (store.Zone, error) {
	var z store.Zone
	var created, updated int64
	dest := []any{&z.Name, &z.Version, &z.Deleted, &z.Hash, &z.Serial,
		&z.OwnerHost, &z.OwnerUser, &created, &updated}
	if full {
		dest = append(dest, &z.Canonical, &z.Original)
	}
	if err := sc.Scan(dest...); err != nil {
		return store.Zone{}, err
	}
	z.Created, z.Updated = store.FromUnixNano(created), store.FromUnixNano(updated)
	return z, nil
}

// Lookup returns the zone row even if tombstoned (for admin and status);
// store.ErrNotFound if the name was never seen or its tombstone was purged.
func (s *Store) Lookup(ctx context.Context, name string) (store.Zone, error) {
	n, err := store.NormName(name)
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: lookup %q: %w", name, err)
	}
	z, err := lookup(ctx, s.db, n)
	if err != nil {
		return store.Zone{}, fmt.Errorf("store: lookup %s: %w", n, err)
	}
	return z, nil
}

// Get returns the live zone; store.ErrNotFound when absent or tombstoned.
func (s *Store) Get(ctx context.Context, name string) (store.Zone, error) {
	z, err := s.Lookup(ctx, name)
	if err != nil {
		return store.Zone{}, err
	}
	if z.Deleted {
		return store.Zone{}, fmt.Errorf("store: get %s: deleted: %w", z.Name, store.ErrNotFound)
	}
	return z, nil
}

// lookup reads the full row of name, wrapping store.ErrNotFound.
func lookup(ctx context.Context, q querier, name string) (store.Zone, error) {
	row := q.QueryRowContext(ctx, "SELECT "+fullCols+" FROM zones WHERE name = ?", name)
	z, err := scanZone(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Zone{}, store.ErrNotFound
	}
	return z, err
}
