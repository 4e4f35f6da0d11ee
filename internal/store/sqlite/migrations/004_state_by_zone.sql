-- Fewer pages written per push and per "applied" mark, most with several
-- backend instances.
--
-- backend_state is keyed by (zone, backend) instead of (backend, zone):
-- a push marks one row per backend instance, and those rows now sit side
-- by side in one leaf page instead of one page in each backend's range.
-- The key's prefix also serves lookups by zone, so backend_state_zone
-- goes.
--
-- backend_state_seq held every row (backend, state, seq): each push moved
-- one entry per backend from the applied range to the pending one, and
-- each applied mark moved it back. The work query reads pending rows
-- only, so backend_state_pending holds only those: in the steady state it
-- is a few pages, and an applied mark merely removes an entry.
--
-- backends.last_applied keeps the latest applied mark of each instance
-- (the status page's "last applied"), which was the max() of a column no
-- index holds any more.
CREATE TABLE backend_state_new (
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
	PRIMARY KEY (zone, backend)
) STRICT, WITHOUT ROWID;

INSERT INTO backend_state_new (backend, zone, desired_version, seq, state, applied_version,
	applied_hash, applied_at, attempts, last_error, failed_at, next_attempt)
SELECT backend, zone, desired_version, seq, state, applied_version,
	applied_hash, applied_at, attempts, last_error, failed_at, next_attempt
FROM backend_state;

ALTER TABLE backends ADD COLUMN last_applied INTEGER NOT NULL DEFAULT 0;
UPDATE backends SET last_applied =
	coalesce((SELECT max(applied_at) FROM backend_state WHERE backend = backends.name), 0);

DROP TABLE backend_state;
ALTER TABLE backend_state_new RENAME TO backend_state;

CREATE INDEX backend_state_pending ON backend_state(backend, seq) WHERE state = 'pending';
-- As in migration 003: retries only.
CREATE INDEX backend_state_next ON backend_state(backend, state, next_attempt)
	WHERE state IN ('failed', 'permanent');
