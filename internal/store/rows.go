package store

import (
	"context"
	"database/sql"
	"fmt"
)

// EachZoneRow runs a zone query on db and hands each row, read by scan, to
// fn while the rows are open (for implementations' streaming reads such as
// EachLive). An error from fn stops the walk and is returned as is.
func EachZoneRow(ctx context.Context, db *sql.DB, query string, scan func(*sql.Rows) (Zone, error), fn func(Zone) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		z, err := scan(rows)
		if err != nil {
			return fmt.Errorf("store: list: %w", err)
		}
		if err := fn(z); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	return nil
}
