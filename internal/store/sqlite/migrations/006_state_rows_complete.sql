-- Every zone row has one backend_state row per registered backend: the
-- status counts rely on it (countStates). Import wrote zones without rows
-- for the backends already registered, which were then never due for them;
-- those rows are added here, pending, as a push would have made them.
INSERT INTO backend_state (backend, zone, desired_version, seq, state)
SELECT b.name, z.name, z.version, z.seq, 'pending'
FROM backends b CROSS JOIN zones z
WHERE NOT EXISTS (SELECT 1 FROM backend_state bs WHERE bs.zone = z.name AND bs.backend = b.name);
