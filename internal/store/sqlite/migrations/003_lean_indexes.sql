-- Fewer index pages written per push and per "applied" mark.
--
-- backend_state_next serves only retries (failed rows; the operator's
-- failure list adds permanent ones): pending and applied rows, nearly all
-- of them, no longer enter it, so a push and its applied mark each leave
-- one index page (often two: the old entry and the new) unwritten. Queries
-- that use it repeat its condition, state IN ('failed', 'permanent'), so
-- that SQLite knows it applies.
DROP INDEX backend_state_next;
CREATE INDEX backend_state_next ON backend_state(backend, state, next_attempt)
	WHERE state IN ('failed', 'permanent');
