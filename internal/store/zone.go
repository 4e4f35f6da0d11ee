package store

import "time"

// Zone is the stored desired state of one zone.
type Zone struct {
	Name      string // validated zone name, lower-case, no trailing dot
	Canonical string // canonical zone text ("" when Deleted)
	Original  string // text as pushed ("" when Deleted)
	Hash      string // sha256 hex of Canonical ("" when Deleted)
	Serial    uint32
	Version   int64  // +1 on every push or delete of this name; never reused, also across delete/re-create
	OwnerHost string // DA hostname that pushed it
	OwnerUser string
	Created   time.Time // first push of this life of the name (a re-create starts a new one)
	Updated   time.Time // last push or delete
	Deleted   bool      // tombstone
}

// State is the condition of one zone on one backend instance.
type State string

// The states of a (zone, backend) row.
const (
	StatePending   State = "pending"   // behind, never tried for the current version
	StateApplied   State = "applied"   // the backend serves the desired version
	StateFailed    State = "failed"    // behind; retried at NextAttempt
	StatePermanent State = "permanent" // behind; not retried until the zone changes
)

// Work is one zone a backend must bring up to date.
type Work struct {
	Zone     Zone // latest desired state (Canonical filled; Deleted for tombstones)
	Attempts int  // failed attempts so far for this version (reset by a newer push)
}

// Applied says that a backend now serves version Version of zone Name.
type Applied struct {
	Name    string
	Version int64
	Hash    string // hash the backend serves; "" for a delete
}

// Failure says that applying version Version of zone Name failed.
type Failure struct {
	Name      string
	Version   int64
	Err       string
	Next      time.Time // when to retry (ignored when Permanent)
	Permanent bool      // do not retry until the zone changes
}

// BackendState is what one backend instance has done with one zone.
type BackendState struct {
	Backend        string
	Zone           string
	State          State
	DesiredVersion int64
	AppliedVersion int64 // 0 if never applied
	AppliedHash    string
	AppliedAt      time.Time
	Attempts       int       // failures of the desired version
	LastError      string    // latest failure; kept when a newer push resets the schedule
	FailedAt       time.Time // when LastError happened
	NextAttempt    time.Time // zero unless State is failed
}

// Summary counts one backend instance's progress.
type Summary struct {
	Backend       string
	Applied       int       // live zones served at their desired version
	Behind        int       // zones or tombstones pending, not yet tried for their version
	Failing       int       // failed, retried later
	Permanent     int       // failed permanently until the zone changes
	OldestPending time.Time // push time of the oldest zone still behind (pending or failing); zero if none
	LastApplied   time.Time // latest successful apply; zero if none
	LastError     string    // latest error among failing and permanent zones
	LastErrorZone string
}
