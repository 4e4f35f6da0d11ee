-- Desired state of every zone ever pushed. Metadata comes first and the
-- texts last so that listing metadata never walks a zone text's overflow pages.
CREATE TABLE zones (
	name       TEXT PRIMARY KEY,
	version    INTEGER NOT NULL,
	seq        INTEGER NOT NULL,            -- global push order: oldest work first
	deleted    INTEGER NOT NULL DEFAULT 0,  -- 1 = tombstone
	hash       TEXT NOT NULL DEFAULT '',
	serial     INTEGER NOT NULL DEFAULT 0,
	owner_host TEXT NOT NULL DEFAULT '',
	owner_user TEXT NOT NULL DEFAULT '',
	created    INTEGER NOT NULL,            -- unix nanoseconds
	updated    INTEGER NOT NULL,
	canonical  TEXT NOT NULL DEFAULT '',
	original   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX zones_live ON zones(deleted, name);

-- Last version of purged tombstones, so a re-created name never reuses one.
CREATE TABLE retired (
	name    TEXT PRIMARY KEY,
	version INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO counters(name, value) VALUES ('push', 0);

-- Backend instances that have state rows: one row per zone each.
CREATE TABLE backends (
	name  TEXT PRIMARY KEY,
	added INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- What each backend serves. desired_version and seq copy the zone's so that
-- the work query is answered from one index.
CREATE TABLE backend_state (
	backend         TEXT NOT NULL REFERENCES backends(name) ON DELETE CASCADE,
	zone            TEXT NOT NULL REFERENCES zones(name) ON DELETE CASCADE,
	desired_version INTEGER NOT NULL,
	seq             INTEGER NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'failed', 'permanent')),
	applied_version INTEGER NOT NULL DEFAULT 0,
	applied_hash    TEXT NOT NULL DEFAULT '',
	applied_at      INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	failed_at       INTEGER NOT NULL DEFAULT 0,
	next_attempt    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (backend, zone)
) STRICT, WITHOUT ROWID;

CREATE INDEX backend_state_zone ON backend_state(zone);
CREATE INDEX backend_state_seq ON backend_state(backend, state, seq);
CREATE INDEX backend_state_next ON backend_state(backend, state, next_attempt);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
