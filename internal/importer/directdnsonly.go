package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // directdnsonly's SQLite file
)

// directdnsonly keeps one row per zone in its domains table:
//
//	domain (as DirectAdmin sent it), hostname (owning DA server, may be
//	empty or NULL), username, zone_data (the last zone text it wrote to its
//	backends, may be NULL), zone_updated_at (when zone_data was stored).
//
// Older versions have no zone_data / zone_updated_at columns: their rows
// are reported as missing text.
const domainsTable = "domains"

// OpenDirectdnsonlySQLite opens directdnsonly's SQLite database read-only.
func OpenDirectdnsonlySQLite(path string) (*sql.DB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("directdnsonly database: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("directdnsonly database %s: not a regular file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("directdnsonly database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// OpenDirectdnsonlyMySQL opens directdnsonly's MySQL datastore; dsn is in
// go-sql-driver form (user:pass@tcp(host:port)/name).
func OpenDirectdnsonlyMySQL(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("directdnsonly MySQL DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, errors.New("directdnsonly MySQL DSN names no database (user:pass@tcp(host:port)/NAME)")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("directdnsonly MySQL: %w", err)
	}
	return sql.OpenDB(conn), nil
}

// ReadDirectdnsonly reads every row of directdnsonly's domains table.
func ReadDirectdnsonly(ctx context.Context, db *sql.DB) ([]Entry, error) {
	cols, err := columns(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"domain", "hostname", "username"} {
		if !cols[c] {
			return nil, fmt.Errorf("table %s has no column %q: is this a directdnsonly database?", domainsTable, c)
		}
	}
	sel := "domain, hostname, username"
	hasText, hasTime := cols["zone_data"], cols["zone_updated_at"]
	if hasText {
		sel += ", zone_data"
	}
	if hasTime {
		sel += ", CAST(zone_updated_at AS CHAR)"
	}
	order := ""
	if cols["id"] {
		order = " ORDER BY id"
	}
	rows, err := db.QueryContext(ctx, "SELECT "+sel+" FROM "+domainsTable+order)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", domainsTable, err)
	}
	defer rows.Close()
	var out []Entry
	for n := 1; rows.Next(); n++ {
		var domain, host, user, text, updated sql.NullString
		dest := []any{&domain, &host, &user}
		if hasText {
			dest = append(dest, &text)
		}
		if hasTime {
			dest = append(dest, &updated)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("reading %s row %d: %w", domainsTable, n, err)
		}
		e := Entry{Name: domain.String, Host: host.String, User: user.String, Source: fmt.Sprintf("%s row %d", domainsTable, n)}
		if text.Valid {
			s := text.String
			e.Text = &s
		}
		if updated.Valid {
			e.Updated = parseTime(updated.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", domainsTable, err)
	}
	return out, nil
}

// columns lists the domains table's columns, in either database.
func columns(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+domainsTable+" WHERE 1=0")
	if err != nil {
		return nil, fmt.Errorf("no %s table (is this a directdnsonly database?): %w", domainsTable, err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, c := range names {
		out[strings.ToLower(c)] = true
	}
	return out, nil
}

// parseTime reads the forms SQLAlchemy and MySQL store a DateTime in; an
// unreadable time is zero (the entry then loses ties, nothing worse).
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
		time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00",
	} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}
