// Package backend defines what a DNS backend is to dadns: something that
// makes one DNS server instance serve exactly the zones it is given.
package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/zone"
)

// Backend makes one DNS server instance serve exactly the zones it is given.
// Implementations must be safe for use by one worker goroutine at a time;
// Zone and Zones may be called concurrently with Apply by status readers.
// Zone, Zones (and Verify, Probe) only read: they change nothing on the
// server or on disk.
type Backend interface {
	// Apply replaces each zone atomically; re-applying an identical zone is a no-op.
	Apply(ctx context.Context, zones []*zone.Zone) error
	// Delete removes the zones; absent zones are not an error.
	Delete(ctx context.Context, names []zone.Name) error
	// Zone returns what the backend serves now for name, or ErrNotFound.
	Zone(ctx context.Context, name zone.Name) (*zone.Zone, error)
	// Zones lists every zone the backend holds.
	Zones(ctx context.Context) ([]zone.Name, error)
}

// Verifier is implemented by backends that can check cheaply, without
// rebuilding the zone, that they serve the given canonical hash.
type Verifier interface {
	Verify(ctx context.Context, name zone.Name, hash string) error
}

// Auditor is implemented by backends that cannot store every record type:
// AuditZone returns an error wrapping ErrPermanent for a zone they would not
// serve faithfully, before anything is applied.
type Auditor interface {
	AuditZone(z *zone.Zone) error
}

// Batcher is implemented by backends whose cost is mostly per batch (one
// reconfiguration of a daemon, say): BatchSize is how many zones they
// want in one Apply, overriding the dispatcher's default. The dispatcher
// asks before every batch, so the size may follow what the backend holds.
type Batcher interface {
	BatchSize() int
}

// Prober is implemented by backends that can tell cheaply whether their
// server answers at all (bind: "rndc status", a database: a ping). After a
// batch fails as a whole the dispatcher probes; while the probe fails it
// applies nothing and probes again on a backoff, and it resumes once the
// probe succeeds. Probe must have no side effects.
type Prober interface {
	Probe(ctx context.Context) error
}

// Repairer is implemented by backends that find and fix drift around
// their server (files left behind by an interrupted delete, say). Reads
// (Zone, Zones, Verify) never repair: the dispatcher calls Repair as its
// own step, once the worker first drains its queue and then periodically
// while the backend is up. Repair runs beside no Apply or Delete of the
// same worker.
type Repairer interface {
	Repair(ctx context.Context) error
}

// Closer is implemented by backends holding resources (servers, pools).
type Closer interface {
	Close() error
}

// ErrNotFound reports that a backend does not hold a zone.
var ErrNotFound = errors.New("backend: zone not found")

// ErrPermanent marks failures that retrying cannot fix (a record the backend
// cannot represent); the dispatcher stops retrying until the zone changes.
var ErrPermanent = errors.New("permanent failure")

// ErrMismatch reports that a backend serves something other than what was applied.
var ErrMismatch = errors.New("backend: served zone differs from the applied one")

// ZoneError ties an error to one zone of a batch, so the dispatcher can
// record failures per zone while the rest of the batch succeeds.
type ZoneError struct {
	Zone zone.Name
	Err  error
}

// Error implements error.
func (e *ZoneError) Error() string { return fmt.Sprintf("zone %s: %v", e.Zone, e.Err) }

// Unwrap returns the cause.
func (e *ZoneError) Unwrap() error { return e.Err }

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// PerZone splits a batch error into the failures it names per zone. Zones a
// ZoneError does not name share rest (nil when every failure is named).
func PerZone(err error) (named map[zone.Name]error, rest error) {
	named = map[zone.Name]error{}
	var walk func(error) bool
	walk = func(e error) bool {
		var ze *ZoneError
		if errors.As(e, &ze) && e == error(ze) {
			named[ze.Zone] = ze.Err
			return true
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			all := true
			for _, x := range j.Unwrap() {
				if !walk(x) {
					all = false
				}
			}
			return all
		}
		return false
	}
	if err == nil || walk(err) {
		return named, nil
	}
	return named, err
}
