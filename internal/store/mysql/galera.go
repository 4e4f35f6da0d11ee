package mysql

// Seen on MariaDB 10.11 with Galera 4 before statements were sent as text
// queries (see prepare): the error of a transaction aborted between two
// statements ("BF abort": a replicated transaction needed its row locks),
// reported on the client's next command, was lost when that command was
// an unanswered COM_STMT_CLOSE, and the statements after it ran outside
// the transaction. Rows affected before COMMIT, and a COMMIT without
// error, were then no proof that a claim was stored. As a second line,
// Claim and AcquireLease read back what they took (claimedBack,
// leaseHeld) and keep only what the database shows.
//
// A check of pushes by the session's WSREP_LAST_WRITTEN_GTID() was tried
// and dropped: in the dadns-level test it reported committed pushes as
// lost, and running them again stored each twice.

// LostCommits counts the claims and leases found not stored after a COMMIT
// that succeeded, since Open.
func (s *Store) LostCommits() int64 { return s.lost.Load() }
