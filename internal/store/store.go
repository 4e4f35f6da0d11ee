// Package store defines the durable state of dadns: the desired state of
// every zone (text, version or tombstone) and, per backend instance, what
// that backend has applied. Store is the interface; sqlite/ (the default,
// embedded) and mysql/ (MariaDB, MySQL, Galera) implement it, and
// storetest/ is the suite both pass.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) when a zone or setting does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrChanged is returned (wrapped) by DeleteIfCurrent when the zone's row
// no longer has the version and owner the caller checked.
var ErrChanged = errors.New("store: changed since read")

// Store is the durable state. Implementations are safe for concurrent use.
// A push (Put, Delete) is durable when it returns nil: the database
// committed it.
type Store interface {
	// Put stores a push: it inserts or replaces the zone's desired state
	// (clearing a tombstone) with Version = previous Version+1 (1 for a new
	// name) and makes the zone due for every backend. Hash is computed from
	// Canonical; a non-empty z.Hash that disagrees is an error. z.Version,
	// Created, Updated and Deleted are ignored. It returns the stored row.
	Put(ctx context.Context, z Zone) (Zone, error)
	// Delete tombstones the zone: Version+1, Canonical/Original/Hash
	// cleared, owner and serial kept, and the tombstone due for every
	// backend. ErrNotFound when the name is absent or already deleted.
	Delete(ctx context.Context, name string) (Zone, error)
	// DeleteIfCurrent is Delete as a compare-and-set: it tombstones the
	// zone only if its live row still has exactly version and ownerHost
	// (byte for byte), checked and tombstoned in one transaction. A row
	// that moved on returns ErrChanged and stays; an absent or tombstoned
	// name returns ErrNotFound.
	DeleteIfCurrent(ctx context.Context, name string, version int64, ownerHost string) (Zone, error)

	// Lookup returns the zone row even if tombstoned; ErrNotFound if the
	// name was never seen or its tombstone was purged.
	Lookup(ctx context.Context, name string) (Zone, error)
	// Get returns the live zone; ErrNotFound when absent or tombstoned.
	Get(ctx context.Context, name string) (Zone, error)
	// Live reports which of names exist and are not tombstoned, keyed by
	// stored name; the zones carry metadata, not texts.
	Live(ctx context.Context, names []string) (map[string]Zone, error)
	// Zones returns full rows (texts included) for names, live or
	// tombstoned; names never seen are absent from the map.
	Zones(ctx context.Context, names []string) (map[string]Zone, error)
	// List returns live zones' metadata (no texts), sorted by name.
	List(ctx context.Context) ([]Zone, error)
	// CountLive returns the number of live zones.
	CountLive(ctx context.Context) (int, error)

	// Due returns up to limit (default 500) zones for backend whose applied
	// version is behind the desired one and which are due now, oldest push
	// first, and the earliest future retry among failing zones (zero if
	// none). A backend never seen before is registered: every zone is due.
	Due(ctx context.Context, backend string, limit int) ([]Work, time.Time, error)
	// Applied records that backend now serves each zone at its version.
	// applied_version never moves backwards; a record older than the
	// desired version keeps the zone due.
	Applied(ctx context.Context, backend string, done []Applied) error
	// Failed records failures for backend: attempts+1, the error, the next
	// attempt. Failures of a version no longer desired are ignored.
	Failed(ctx context.Context, backend string, fails []Failure) error
	// RetryNow makes every zone waiting for a retry on backend due at once.
	RetryNow(ctx context.Context, backend string) (int, error)
	// Forget drops the state of every backend instance not in keep and
	// registers those in keep that are new.
	Forget(ctx context.Context, keep []string) error
	// Purge removes tombstones last changed before `before` that every
	// registered backend has applied; a re-created name continues the
	// version sequence.
	Purge(ctx context.Context, before time.Time) (int, error)

	// Pending counts the work a backend has not done yet, split into
	// zones to apply and zones to delete.
	Pending(ctx context.Context, backend string) (applies, deletes int, err error)
	// Troubled lists every failing (zone, backend) row, by zone then backend.
	Troubled(ctx context.Context) ([]BackendState, error)
	// BackendStates returns the per-backend rows of one zone, by backend.
	BackendStates(ctx context.Context, zone string) ([]BackendState, error)
	// Summary returns the progress counts of one backend instance.
	Summary(ctx context.Context, backend string) (Summary, error)

	// GetSetting returns the value stored under key; ErrNotFound if none.
	GetSetting(ctx context.Context, key string) (string, error)
	// SetSetting stores value under key, replacing any previous value.
	SetSetting(ctx context.Context, key, value string) error

	// Close releases the database; the store must not be used afterwards.
	Close() error
}
