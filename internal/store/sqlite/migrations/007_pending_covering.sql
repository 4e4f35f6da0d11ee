-- The work query reads zone, seq and attempts of each pending row; with
-- attempts in backend_state_pending it finds them all in the index, not
-- one key lookup in the table per due zone. The entry changes only when
-- a row becomes pending (a push: seq and attempts are set then) or stops
-- being pending, so it costs no write the index did not cost already.
DROP INDEX backend_state_pending;
CREATE INDEX backend_state_pending ON backend_state(backend, seq, attempts) WHERE state = 'pending';
