package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// ensureBackend registers backend unless it already has state rows.
func (s *Store) ensureBackend(ctx context.Context, backend string) error {
	if backend == "" {
		return errors.New("empty backend name")
	}
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM backends WHERE name = ?", backend).Scan(&one)
	if err == nil {
		return s.maybeFill(ctx, backend)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	err = s.write(ctx, func(tx *sql.Tx) error { return register(ctx, tx, backend, s.now()) })
	if err == nil {
		s.fill.registeredNow(backend, s.now())
	}
	return err
}

// register adds backend with every zone pending, unless it is known.
func register(ctx context.Context, tx *sql.Tx, backend string, now time.Time) error {
	res, err := tx.ExecContext(ctx,
		"INSERT IGNORE INTO backends (name, added) VALUES (?, ?)",
		backend, store.UnixNano(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO backend_state (backend, zone, desired_version, seq, state, last_error)
		SELECT ?, name, version, seq, 'pending', '' FROM zones
		ON DUPLICATE KEY UPDATE backend = backend`, backend)
	return err
}

// Forget drops the state of every backend instance not in keep and
// registers those in keep that are new.
func (s *Store) Forget(ctx context.Context, keep []string) error {
	return s.forget(ctx, keep, "")
}

// forget is Forget limited to the instances whose names end in suffix.
func (s *Store) forget(ctx context.Context, keep []string, suffix string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, _, err := forgetOthers(ctx, tx, keep, suffix); err != nil {
			return err
		}
		for _, b := range keep {
			if b == "" {
				return errors.New("empty backend name")
			}
			if err := register(ctx, tx, b, s.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: forget backends: %w", err)
	}
	for _, b := range keep {
		s.fill.registeredNow(b, s.now())
	}
	return nil
}

// forgetOthers deletes the backends matching suffix that are not in keep,
// and their rows; it returns how many backends and rows it deleted.
func forgetOthers(ctx context.Context, tx *sql.Tx, keep []string, suffix string) (backends, states int, err error) {
	where, args := "name LIKE ?", []any{"%" + escapeLike(suffix)}
	if len(keep) > 0 {
		where += " AND name NOT IN (" + placeholders(len(keep)) + ")"
		args = append(args, anys(keep)...)
	}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM backends WHERE "+where+" FOR UPDATE", args...)
	if err != nil {
		return 0, 0, err
	}
	var gone []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return 0, 0, err
		}
		gone = append(gone, n)
	}
	if err := rows.Close(); err != nil {
		return 0, 0, err
	}
	for _, n := range gone {
		k, err := exec(ctx, tx, "DELETE FROM backend_state WHERE backend = ?", n)
		if err != nil {
			return 0, 0, err
		}
		states += k
		if _, err := tx.ExecContext(ctx, "DELETE FROM backends WHERE name = ?", n); err != nil {
			return 0, 0, err
		}
	}
	return len(gone), states, nil
}

// escapeLike quotes LIKE's wildcards in s.
func escapeLike(s string) string {
	r := make([]byte, 0, len(s))
	for i := range len(s) {
		if s[i] == '%' || s[i] == '_' || s[i] == '\\' {
			r = append(r, '\\')
		}
		r = append(r, s[i])
	}
	return string(r)
}
