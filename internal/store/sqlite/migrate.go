package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema step; version n is file NNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order, checking that the
// versions run 1, 2, 3... without gaps.
func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		m, err := readMigration(f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

func readMigration(file string) (migration, error) {
	base := strings.TrimPrefix(file, "migrations/")
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 {
		return migration{}, fmt.Errorf("migration %s: name is not NNN_name.sql", base)
	}
	b, err := migrationFS.ReadFile(file)
	if err != nil {
		return migration{}, err
	}
	return migration{version: v, name: base, sql: string(b)}, nil
}

// migrate applies every migration newer than PRAGMA user_version, each in
// its own write transaction together with the new user_version, so a crash
// leaves the schema at a whole version.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, m := range ms {
		err := s.write(ctx, func(tx *sql.Tx) error { return applyMigration(ctx, tx, m, len(ms)) })
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// applyMigration runs m unless the database is already at or past it. The
// version is read inside the transaction: another process may have migrated.
func applyMigration(ctx context.Context, tx *sql.Tx, m migration, latest int) error {
	cur, err := userVersion(ctx, tx)
	if err != nil {
		return err
	}
	if cur > latest {
		return fmt.Errorf("database schema version %d is newer than this program's %d", cur, latest)
	}
	if cur >= m.version {
		return nil
	}
	if cur == 0 {
		if err := refuseForeign(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	// PRAGMA takes no bound parameters; the version is our own integer.
	_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
	return err
}

func userVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// querier is what *sql.DB and *sql.Tx share for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// refuseForeign stops dadns from migrating a database another program owns
// (the Python directdnsonly's db_location, say): a file at schema version 0
// must hold no tables.
func refuseForeign(ctx context.Context, tx *sql.Tx) error {
	var name string
	err := tx.QueryRowContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 1").Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("not a dadns database (it holds table %q): point datastore.db_location at a new file", name)
}
