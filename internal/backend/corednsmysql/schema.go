package corednsmysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// limits are what the existing columns can hold, learnt from the schema.
type limits struct {
	typeLen int // records.type characters
	dataLen int // records.data characters
}

// defaultLimits are those of the tables this package creates, used by
// AuditZone before the database has been reached.
var defaultLimits = limits{typeLen: 10, dataLen: 65535}

// ErrSchema reports tables that exist but that dadns cannot write as the
// plugin reads them; the message says what differs. It is not permanent:
// once an operator fixes the tables, the next retry proceeds.
var ErrSchema = errors.New("coredns_mysql: incompatible schema")

// createTables creates the tables when missing: the plugin's layout with
// data as TEXT and an index for its lookups. Existing tables are never
// altered.
func (b *Backend) createTables(ctx context.Context) error {
	zones := "CREATE TABLE IF NOT EXISTS " + b.zt + ` (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  zone_name VARCHAR(255) NOT NULL,
  UNIQUE KEY zone_name (zone_name)
) ENGINE=InnoDB`
	records := "CREATE TABLE IF NOT EXISTS " + b.rt + ` (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  zone_id INT NOT NULL,
  hostname VARCHAR(512) NOT NULL,
  type VARCHAR(10) NOT NULL,
  data TEXT NOT NULL,
  ttl INT NOT NULL DEFAULT 120,
  online INT NOT NULL DEFAULT 0,
  KEY zone_host_type (zone_id, hostname, type),
  FOREIGN KEY (zone_id) REFERENCES ` + b.zt + ` (id)
) ENGINE=InnoDB`
	for _, q := range []string{zones, records} {
		if _, err := b.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("coredns_mysql: create tables: %w", err)
		}
	}
	return nil
}

// column is one row of information_schema.COLUMNS.
type column struct {
	dataType   string
	maxLen     sql.NullInt64
	nullable   bool
	hasDefault bool
	extra      string
}

// inspect reads both tables' columns, engines and unique keys and checks
// them against what the plugin and dadns need.
func (b *Backend) inspect(ctx context.Context) (limits, error) {
	cols, err := b.columns(ctx)
	if err != nil {
		return limits{}, err
	}
	engines, err := b.engines(ctx)
	if err != nil {
		return limits{}, err
	}
	unique, err := b.uniqueZoneName(ctx)
	if err != nil {
		return limits{}, err
	}
	var p []string
	p = append(p, checkEngines(b.opt, engines)...)
	p = append(p, checkZonesTable(b.opt.ZonesTable, cols[b.opt.ZonesTable])...)
	p = append(p, checkRecordsTable(b.opt.RecordsTable, cols[b.opt.RecordsTable])...)
	if !unique {
		p = append(p, b.opt.ZonesTable+".zone_name has no UNIQUE index of its own (the plugin and dadns need one row per zone)")
	}
	if len(p) > 0 {
		return limits{}, fmt.Errorf("%w in database %s: %s; fix the tables or point zones_table/records_table at new ones (dadns creates them when missing)",
			ErrSchema, b.opt.Database, strings.Join(p, "; "))
	}
	rc := cols[b.opt.RecordsTable]
	return limits{typeLen: int(rc["type"].maxLen.Int64), dataLen: int(rc["data"].maxLen.Int64)}, nil
}

func (b *Backend) columns(ctx context.Context) (map[string]map[string]column, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT TABLE_NAME, LOWER(COLUMN_NAME), LOWER(DATA_TYPE), CHARACTER_MAXIMUM_LENGTH,
  IS_NULLABLE = 'YES', COLUMN_DEFAULT IS NOT NULL, LOWER(EXTRA)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)`,
		b.opt.ZonesTable, b.opt.RecordsTable)
	if err != nil {
		return nil, fmt.Errorf("coredns_mysql: read schema: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]column{}
	for rows.Next() {
		var table, name string
		var c column
		if err := rows.Scan(&table, &name, &c.dataType, &c.maxLen, &c.nullable, &c.hasDefault, &c.extra); err != nil {
			return nil, fmt.Errorf("coredns_mysql: read schema: %w", err)
		}
		if out[table] == nil {
			out[table] = map[string]column{}
		}
		out[table][name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coredns_mysql: read schema: %w", err)
	}
	return out, nil
}

func (b *Backend) engines(ctx context.Context) (map[string]string, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT TABLE_NAME, COALESCE(ENGINE, TABLE_TYPE) FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)`, b.opt.ZonesTable, b.opt.RecordsTable)
	if err != nil {
		return nil, fmt.Errorf("coredns_mysql: read schema: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var t, e string
		if err := rows.Scan(&t, &e); err != nil {
			return nil, fmt.Errorf("coredns_mysql: read schema: %w", err)
		}
		out[t] = e
	}
	return out, rows.Err()
}

// uniqueZoneName reports a unique index made of zone_name alone.
func (b *Backend) uniqueZoneName(ctx context.Context) (bool, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (
  SELECT INDEX_NAME FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0
  GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(LOWER(COLUMN_NAME)) = 'zone_name') u`, b.opt.ZonesTable).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("coredns_mysql: read schema: %w", err)
	}
	return n > 0, nil
}
