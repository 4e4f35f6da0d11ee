package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are the schema steps, in order; step i+1 is migrations[i].
// MySQL's DDL is not transactional and Galera offers no GET_LOCK, so each
// statement is idempotent (IF NOT EXISTS): nodes starting at once may both
// run a step, and the later one changes nothing.
var migrations = [][]string{{
	// Desired state of every zone ever pushed. Names are ASCII (validated,
	// IDNs in their A-label form); texts are bytes as pushed.
	`CREATE TABLE IF NOT EXISTS zones (
		name       VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
		version    BIGINT NOT NULL,
		seq        BIGINT NOT NULL,
		deleted    TINYINT NOT NULL DEFAULT 0,
		hash       VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
		serial     INT UNSIGNED NOT NULL DEFAULT 0,
		owner_host VARCHAR(255) NOT NULL DEFAULT '',
		owner_user VARCHAR(255) NOT NULL DEFAULT '',
		created    BIGINT NOT NULL,
		updated    BIGINT NOT NULL,
		canonical  LONGBLOB NOT NULL,
		original   LONGBLOB NOT NULL,
		KEY zones_live (deleted, name),
		KEY zones_seq (seq),
		KEY zones_owner (deleted, owner_host, owner_user, name),
		KEY zones_updated (deleted, updated, name)
	) ENGINE=InnoDB`,
	// The last versions of each zone, for the operator pages.
	`CREATE TABLE IF NOT EXISTS zone_history (
		id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		zone       VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
		version    BIGINT NOT NULL,
		at         BIGINT NOT NULL,
		deleted    TINYINT NOT NULL,
		serial     INT UNSIGNED NOT NULL,
		owner_host VARCHAR(255) NOT NULL,
		owner_user VARCHAR(255) NOT NULL,
		KEY zone_history_zone (zone, id)
	) ENGINE=InnoDB`,
	`CREATE TABLE IF NOT EXISTS retired (
		name    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
		version BIGINT NOT NULL
	) ENGINE=InnoDB`,
	`CREATE TABLE IF NOT EXISTS backends (
		name  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
		added BIGINT NOT NULL
	) ENGINE=InnoDB`,
	// claimed_by/claim_until: a shared backend's row is applied by the node
	// holding an unexpired claim (see cluster.go).
	`CREATE TABLE IF NOT EXISTS backend_state (
		backend         VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
		zone            VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
		desired_version BIGINT NOT NULL,
		seq             BIGINT NOT NULL,
		state           VARCHAR(16) CHARACTER SET ascii NOT NULL,
		applied_version BIGINT NOT NULL DEFAULT 0,
		applied_hash    VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
		applied_at      BIGINT NOT NULL DEFAULT 0,
		attempts        INT NOT NULL DEFAULT 0,
		last_error      TEXT NOT NULL,
		failed_at       BIGINT NOT NULL DEFAULT 0,
		next_attempt    BIGINT NOT NULL DEFAULT 0,
		claimed_by      VARCHAR(255) NOT NULL DEFAULT '',
		claim_until     BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (backend, zone),
		KEY backend_state_zone (zone),
		KEY backend_state_seq (backend, state, seq),
		KEY backend_state_next (backend, state, next_attempt),
		CONSTRAINT backend_state_state CHECK (state IN ('pending', 'applied', 'failed', 'permanent'))
	) ENGINE=InnoDB`,
	`CREATE TABLE IF NOT EXISTS settings (
		name  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
		value TEXT NOT NULL
	) ENGINE=InnoDB`,
	// Nodes sharing this database, and named leases (reconciliation).
	`CREATE TABLE IF NOT EXISTS nodes (
		id        VARCHAR(255) NOT NULL PRIMARY KEY,
		version   VARCHAR(64) NOT NULL DEFAULT '',
		addr      VARCHAR(255) NOT NULL DEFAULT '',
		started   BIGINT NOT NULL DEFAULT 0,
		last_seen BIGINT NOT NULL DEFAULT 0
	) ENGINE=InnoDB`,
	`CREATE TABLE IF NOT EXISTS leases (
		name   VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
		holder VARCHAR(255) NOT NULL DEFAULT '',
		until  BIGINT NOT NULL DEFAULT 0
	) ENGINE=InnoDB`,
}}

// schemaTable records the applied steps.
const schemaTable = "dadns_schema"

// migrate brings the schema to the latest step.
func (s *Store) migrate(ctx context.Context) error {
	cur, err := s.schemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if cur > len(migrations) {
		return fmt.Errorf("store: migrate: database schema version %d is newer than this program's %d", cur, len(migrations))
	}
	for i := cur; i < len(migrations); i++ {
		for _, q := range migrations[i] {
			if _, err := s.db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("store: migrate step %d: %w", i+1, err)
			}
		}
		if _, err := s.db.ExecContext(ctx,
			"INSERT IGNORE INTO "+schemaTable+" (version) VALUES (?)", i+1); err != nil {
			return fmt.Errorf("store: migrate step %d: %w", i+1, err)
		}
	}
	return nil
}

// schemaVersion returns the latest applied step, creating the bookkeeping
// table in an empty database. A database that holds other tables but no
// bookkeeping belongs to another program and is refused.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_name = ?`, schemaTable).Scan(&n)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		if err := refuseForeign(ctx, s.db); err != nil {
			return 0, err
		}
		_, err := s.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+schemaTable+
			" (version INT NOT NULL PRIMARY KEY) ENGINE=InnoDB")
		return 0, err
	}
	var v sql.NullInt64
	err = s.db.QueryRowContext(ctx, "SELECT max(version) FROM "+schemaTable).Scan(&v)
	return int(v.Int64), err
}

// refuseForeign stops dadns from writing into a database another program
// owns (directdnsonly's, say): without dadns's bookkeeping table it must be
// empty.
func refuseForeign(ctx context.Context, db *sql.DB) error {
	var name string
	err := db.QueryRowContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = DATABASE() LIMIT 1`).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("store: the database holds table %q but is not a dadns database: set datastore.name to a new, empty database", name)
}
