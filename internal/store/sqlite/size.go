package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
)

// sizedDSN returns the driver DSN for path, capped at maxBytes when it is
// positive. The cap is SQLite's max_page_count, so the page size is read
// from the file first (a new file gets SQLite's default). Past the cap a
// write fails with SQLITE_FULL ("database or disk is full"), exactly as on
// a full disk: the push is refused, never acknowledged and lost.
func sizedDSN(ctx context.Context, path string, maxBytes int64) (string, error) {
	base := dsn(path)
	if maxBytes <= 0 {
		return base, nil
	}
	db, err := sql.Open("sqlite", base)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var pageSize int64
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return "", fmt.Errorf("read page size: %w", err)
	}
	pages := max(maxBytes/pageSize, 1)
	return base + "&_pragma=" + url.QueryEscape(fmt.Sprintf("max_page_count(%d)", pages)), nil
}
