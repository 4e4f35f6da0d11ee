package powerdns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// limits are what the existing columns can hold, learnt from the schema.
type limits struct {
	typeLen    int // records.type characters
	contentLen int // records.content characters
}

// defaultLimits are those of PowerDNS's schema, used by AuditZone before
// the database has been reached.
var defaultLimits = limits{typeLen: 10, contentLen: 64000}

// ErrSchema reports tables that exist but that dadns cannot write as
// PowerDNS reads them; the message says what differs. It is not permanent:
// once an operator fixes the tables, the next retry proceeds.
var ErrSchema = errors.New("powerdns: incompatible schema")

// schema is PowerDNS 4.7's modules/gmysqlbackend/schema.mysql.sql, table
// for table and index for index, each table created only when missing.
// Existing tables are never altered.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS domains (
  id                    INT AUTO_INCREMENT,
  name                  VARCHAR(255) NOT NULL,
  master                VARCHAR(128) DEFAULT NULL,
  last_check            INT DEFAULT NULL,
  type                  VARCHAR(8) NOT NULL,
  notified_serial       INT UNSIGNED DEFAULT NULL,
  account               VARCHAR(40) CHARACTER SET 'utf8' DEFAULT NULL,
  options               VARCHAR(64000) DEFAULT NULL,
  catalog               VARCHAR(255) DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY name_index (name),
  KEY catalog_idx (catalog)
) Engine=InnoDB CHARACTER SET 'latin1'`,
	`CREATE TABLE IF NOT EXISTS records (
  id                    BIGINT AUTO_INCREMENT,
  domain_id             INT DEFAULT NULL,
  name                  VARCHAR(255) DEFAULT NULL,
  type                  VARCHAR(10) DEFAULT NULL,
  content               VARCHAR(64000) DEFAULT NULL,
  ttl                   INT DEFAULT NULL,
  prio                  INT DEFAULT NULL,
  disabled              TINYINT(1) DEFAULT 0,
  ordername             VARCHAR(255) BINARY DEFAULT NULL,
  auth                  TINYINT(1) DEFAULT 1,
  PRIMARY KEY (id),
  KEY nametype_index (name, type),
  KEY domain_id (domain_id),
  KEY ordername (ordername)
) Engine=InnoDB CHARACTER SET 'latin1'`,
	`CREATE TABLE IF NOT EXISTS supermasters (
  ip                    VARCHAR(64) NOT NULL,
  nameserver            VARCHAR(255) NOT NULL,
  account               VARCHAR(40) CHARACTER SET 'utf8' NOT NULL,
  PRIMARY KEY (ip, nameserver)
) Engine=InnoDB CHARACTER SET 'latin1'`,
	`CREATE TABLE IF NOT EXISTS comments (
  id                    INT AUTO_INCREMENT,
  domain_id             INT NOT NULL,
  name                  VARCHAR(255) NOT NULL,
  type                  VARCHAR(10) NOT NULL,
  modified_at           INT NOT NULL,
  account               VARCHAR(40) CHARACTER SET 'utf8' DEFAULT NULL,
  comment               TEXT CHARACTER SET 'utf8' NOT NULL,
  PRIMARY KEY (id),
  KEY comments_name_type_idx (name, type),
  KEY comments_order_idx (domain_id, modified_at)
) Engine=InnoDB CHARACTER SET 'latin1'`,
	`CREATE TABLE IF NOT EXISTS domainmetadata (
  id                    INT AUTO_INCREMENT,
  domain_id             INT NOT NULL,
  kind                  VARCHAR(32),
  content               TEXT,
  PRIMARY KEY (id),
  KEY domainmetadata_idx (domain_id, kind)
) Engine=InnoDB CHARACTER SET 'latin1'`,
	`CREATE TABLE IF NOT EXISTS cryptokeys (
  id                    INT AUTO_INCREMENT,
  domain_id             INT NOT NULL,
  flags                 INT NOT NULL,
  active                BOOL,
  published             BOOL DEFAULT 1,
  content               TEXT,
  PRIMARY KEY(id),
  KEY domainidindex (domain_id)
) Engine=InnoDB CHARACTER SET 'latin1'`,
	`CREATE TABLE IF NOT EXISTS tsigkeys (
  id                    INT AUTO_INCREMENT,
  name                  VARCHAR(255),
  algorithm             VARCHAR(50),
  secret                VARCHAR(255),
  PRIMARY KEY (id),
  UNIQUE KEY namealgoindex (name, algorithm)
) Engine=InnoDB CHARACTER SET 'latin1'`,
}

// tables are the tables dadns reads or writes (the others are PowerDNS's
// alone, created so that a new database is complete).
var tables = []string{"domains", "records", "domainmetadata", "cryptokeys", "comments"}

// createTables creates the missing tables of PowerDNS's schema.
func (b *Backend) createTables(ctx context.Context) error {
	for _, q := range schema {
		if _, err := b.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("powerdns: create tables: %w", err)
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

// inspect reads the tables' columns, engines and unique keys and checks
// them against what PowerDNS and dadns need.
func (b *Backend) inspect(ctx context.Context) (limits, error) {
	cols, err := b.columns(ctx)
	if err != nil {
		return limits{}, err
	}
	engines, err := b.engines(ctx)
	if err != nil {
		return limits{}, err
	}
	unique, err := b.uniqueName(ctx)
	if err != nil {
		return limits{}, err
	}
	var p []string
	p = append(p, checkEngines(engines)...)
	for _, t := range tables {
		p = append(p, checkTable(t, cols[t], needs[t])...)
	}
	if !unique {
		p = append(p, "domains.name has no UNIQUE index of its own (PowerDNS and dadns need one row per zone)")
	}
	if c, ok := cols["domains"]["account"]; ok && c.maxLen.Valid && c.maxLen.Int64 < int64(len(b.opt.Account)) {
		p = append(p, fmt.Sprintf("domains.account holds %d characters, the account %q needs %d", c.maxLen.Int64, b.opt.Account, len(b.opt.Account)))
	}
	if len(p) > 0 {
		return limits{}, fmt.Errorf("%w in database %s: %s; fix the tables (PowerDNS's schema.mysql.sql) or use a new database (dadns creates them when missing)",
			ErrSchema, b.database(), strings.Join(p, "; "))
	}
	rc := cols["records"]
	return limits{typeLen: int(rc["type"].maxLen.Int64), contentLen: int(rc["content"].maxLen.Int64)}, nil
}

// database names the database for messages.
func (b *Backend) database() string {
	if b.opt.Database != "" {
		return b.opt.Database
	}
	if c, err := mysql.ParseDSN(b.opt.DSN); err == nil {
		return c.DBName
	}
	return "(dsn)"
}

func (b *Backend) columns(ctx context.Context) (map[string]map[string]column, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT TABLE_NAME, LOWER(COLUMN_NAME), LOWER(DATA_TYPE), CHARACTER_MAXIMUM_LENGTH,
  IS_NULLABLE = 'YES', COLUMN_DEFAULT IS NOT NULL, LOWER(EXTRA)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (`+repeat("?", len(tables))+`)`, anys(tables)...)
	if err != nil {
		return nil, fmt.Errorf("powerdns: read schema: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]column{}
	for rows.Next() {
		var table, name string
		var c column
		if err := rows.Scan(&table, &name, &c.dataType, &c.maxLen, &c.nullable, &c.hasDefault, &c.extra); err != nil {
			return nil, fmt.Errorf("powerdns: read schema: %w", err)
		}
		if out[table] == nil {
			out[table] = map[string]column{}
		}
		out[table][name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("powerdns: read schema: %w", err)
	}
	return out, nil
}

func (b *Backend) engines(ctx context.Context) (map[string]string, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT TABLE_NAME, COALESCE(ENGINE, TABLE_TYPE) FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (`+repeat("?", len(tables))+`)`, anys(tables)...)
	if err != nil {
		return nil, fmt.Errorf("powerdns: read schema: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var t, e string
		if err := rows.Scan(&t, &e); err != nil {
			return nil, fmt.Errorf("powerdns: read schema: %w", err)
		}
		out[t] = e
	}
	return out, rows.Err()
}

// uniqueName reports a unique index made of domains.name alone.
func (b *Backend) uniqueName(ctx context.Context) (bool, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (
  SELECT INDEX_NAME FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'domains' AND NON_UNIQUE = 0
  GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(LOWER(COLUMN_NAME)) = 'name') u`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("powerdns: read schema: %w", err)
	}
	return n > 0, nil
}

// SchemaStatements returns the CREATE TABLE statements of PowerDNS's
// generic MySQL schema as dadns creates it (for tests that run PowerDNS
// on a database dadns does not write, such as a catalog consumer).
func SchemaStatements() []string { return append([]string(nil), schema...) }
