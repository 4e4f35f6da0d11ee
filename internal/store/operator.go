package store

import (
	"context"
	"time"
)

// This file holds the queries of the operator pages (internal/ui): a page
// of zones with search, filters and sort; the states of a page of zones;
// recent failures; a zone's push history; retry and resync of one zone.
// Each answers from an index, so a page costs about the same at 100,000
// zones as at 100.

// ZoneQuery selects a page of live zones.
type ZoneQuery struct {
	// Search keeps names holding it (case-insensitive); names starting
	// with it come first.
	Search    string
	OwnerHost string // keep zones pushed by this DA server ("": any)
	OwnerUser string // keep zones of this DA user ("": any)
	// State keeps zones "failing" (failed or permanent on any backend) or
	// "behind" (pending on any backend); "" keeps all.
	State string
	// Sort is "name" (default), "-name", "updated" (latest first) or
	// "-updated" (oldest first).
	Sort   string
	Offset int
	Limit  int // default 50, at most 1000
}

// ZonePage is one page of zones (metadata only) and how many match.
type ZonePage struct {
	Zones []Zone
	Total int
}

// The filters of ZoneQuery.State.
const (
	FilterFailing = "failing"
	FilterBehind  = "behind"
)

// ZonePage returns the page of live zones q selects, with the number of
// matches. Unknown sorts and states are errors.
// zoneFilter is the WHERE clause of q and its arguments. Every condition
// can be decided from the name and owner indexes.
// stateIn keeps names with a backend row in one of states, read through
// the (backend, state, ...) index for each registered backend.
// zoneOrder is the ORDER BY clause of q and its arguments.
// zonesInOrder reads the metadata of names, in the order given.
// StatesOf returns the backend rows of the given zones, by zone, each
// sorted by backend.
// RecentFailures returns up to limit (default 200) failing (zone,
// backend) rows, the latest failure first, and how many there are in all.
// HistoryEntry is one stored version of a zone.
type HistoryEntry struct {
	Version   int64
	At        time.Time
	Deleted   bool
	Serial    uint32
	OwnerHost string
	OwnerUser string
}

// HistoryLength is how many versions of a zone the history keeps.
const HistoryLength = 20

// recordHistory adds the version z to its zone's history and drops the
// entries past HistoryLength, inside the transaction storing z.
// History returns the last HistoryLength versions of zone, newest first.
// RetryZoneNow makes the zone due at once on every backend where it waits
// for a retry; it returns how many backends that concerned. Permanent
// failures wait for a new version (a resync) instead.
// ResyncOn makes backend apply the zone's current version again: its row
// is marked never applied and pending, with a fresh schedule. The other
// backends are untouched. ErrNotFound when the zone is not live or the
// backend holds no row for it.
// SizeBytes is the size of the database (its pages, not the write-ahead log).

// Operator is what the operator pages read and do beyond Store. The SQLite
// store implements it; a store without it leaves the pages off.
type Operator interface {
	Store
	ZonePage(ctx context.Context, q ZoneQuery) (ZonePage, error)
	StatesOf(ctx context.Context, zones []string) (map[string][]BackendState, error)
	RecentFailures(ctx context.Context, limit int) ([]BackendState, int, error)
	History(ctx context.Context, zone string) ([]HistoryEntry, error)
	RetryZoneNow(ctx context.Context, zone string) (int, error)
	ResyncOn(ctx context.Context, zone, backend string) error
	SizeBytes(ctx context.Context) (int64, error)
}
