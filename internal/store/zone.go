package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Zone is the stored desired state of one zone.
type Zone struct {
	Name      string // validated zone name, lower-case, no trailing dot
	Canonical string // canonical zone text ("" when Deleted)
	Original  string // text as pushed ("" when Deleted)
	Hash      string // sha256 hex of Canonical ("" when Deleted)
	Serial    uint32
	Version   int64  // +1 on every push or delete of this name; never reused, also across delete/re-create
	OwnerHost string // DA hostname that pushed it
	OwnerUser string
	Created   time.Time // first push of this life of the name (a re-create starts a new one)
	Updated   time.Time // last push or delete
	Deleted   bool      // tombstone
}

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
func scanZone(sc scanner, full bool) (Zone, error) {
	var z Zone
	var created, updated int64
	dest := []any{&z.Name, &z.Version, &z.Deleted, &z.Hash, &z.Serial,
		&z.OwnerHost, &z.OwnerUser, &created, &updated}
	if full {
		dest = append(dest, &z.Canonical, &z.Original)
	}
	if err := sc.Scan(dest...); err != nil {
		return Zone{}, err
	}
	z.Created, z.Updated = fromUnixNano(created), fromUnixNano(updated)
	return z, nil
}

// Lookup returns the zone row even if tombstoned (for admin and status);
// ErrNotFound if the name was never seen or its tombstone was purged.
func (s *Store) Lookup(ctx context.Context, name string) (Zone, error) {
	n, err := normName(name)
	if err != nil {
		return Zone{}, fmt.Errorf("store: lookup %q: %w", name, err)
	}
	z, err := lookup(ctx, s.db, n)
	if err != nil {
		return Zone{}, fmt.Errorf("store: lookup %s: %w", n, err)
	}
	return z, nil
}

// Get returns the live zone; ErrNotFound when absent or tombstoned.
func (s *Store) Get(ctx context.Context, name string) (Zone, error) {
	z, err := s.Lookup(ctx, name)
	if err != nil {
		return Zone{}, err
	}
	if z.Deleted {
		return Zone{}, fmt.Errorf("store: get %s: deleted: %w", z.Name, ErrNotFound)
	}
	return z, nil
}

// lookup reads the full row of name, wrapping ErrNotFound.
func lookup(ctx context.Context, q querier, name string) (Zone, error) {
	row := q.QueryRowContext(ctx, "SELECT "+fullCols+" FROM zones WHERE name = ?", name)
	z, err := scanZone(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return Zone{}, ErrNotFound
	}
	return z, err
}
