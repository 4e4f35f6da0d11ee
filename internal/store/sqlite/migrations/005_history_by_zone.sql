-- One page fewer written per push: zone_history was a rowid table (each
-- entry appended at its end) with an index on (zone, id) (each entry also
-- inserted at the zone's place there). Keyed by (zone, version), an entry
-- is written once, beside the zone's earlier ones. Versions of a name only
-- grow, also across delete, purge and re-create, and each version has one
-- entry, so the key orders a zone's history as the ids did.
DROP TRIGGER zone_history_purge;

CREATE TABLE zone_history_new (
	zone       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	at         INTEGER NOT NULL,   -- unix nanoseconds (the zone's updated)
	deleted    INTEGER NOT NULL,
	serial     INTEGER NOT NULL,
	owner_host TEXT NOT NULL,
	owner_user TEXT NOT NULL,
	PRIMARY KEY (zone, version)
) STRICT, WITHOUT ROWID;

-- By id: should a version appear twice, the later entry wins.
INSERT OR REPLACE INTO zone_history_new (zone, version, at, deleted, serial, owner_host, owner_user)
SELECT zone, version, at, deleted, serial, owner_host, owner_user FROM zone_history ORDER BY id;

DROP TABLE zone_history;
ALTER TABLE zone_history_new RENAME TO zone_history;

CREATE TRIGGER zone_history_purge AFTER DELETE ON zones BEGIN
	DELETE FROM zone_history WHERE zone = OLD.name;
END;
