-- For the operator pages (internal/ui).
--
-- zone_history keeps the last 20 stored versions of each zone (saves,
-- resyncs and deletes: when, serial, which DA server), written and pruned
-- in the transaction that stores the version (recordHistory); a purged
-- tombstone takes its history along (trigger).
CREATE TABLE zone_history (
	id         INTEGER PRIMARY KEY,
	zone       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	at         INTEGER NOT NULL,   -- unix nanoseconds (the zone's updated)
	deleted    INTEGER NOT NULL,
	serial     INTEGER NOT NULL,
	owner_host TEXT NOT NULL,
	owner_user TEXT NOT NULL
) STRICT;

CREATE INDEX zone_history_zone ON zone_history(zone, id);

CREATE TRIGGER zone_history_purge AFTER DELETE ON zones BEGIN
	DELETE FROM zone_history WHERE zone = OLD.name;
END;

-- Zone list pages: filter by owner, sort by last change, each answered from
-- an index that also holds the name (no zone row read until the page's 50).
CREATE INDEX zones_owner ON zones(deleted, owner_host, owner_user, name);
CREATE INDEX zones_updated ON zones(deleted, updated, name);
