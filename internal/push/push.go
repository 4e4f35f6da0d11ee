// Package push applies zone changes as DirectAdmin sends them: a save
// (validate, canonicalize, store durably, wake the backends) or a delete,
// with the ownership rules of DA's Multi Server Setup. The HTTP API and the
// reconciler both go through it, so a recovered zone is stored exactly like
// a pushed one.
package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// ErrZoneLimit refuses a new zone past the configured number of zones.
var ErrZoneLimit = errors.New("zone limit reached")

// Options configure a Service.
type Options struct {
	Store store.Store
	// MaxZones bounds the live zones of this node (0: no bound).
	MaxZones int
	// ZoneLimits bound one zone.
	ZoneLimits zone.Limits
	// Owners compares DA server identities through aliases.
	Owners Owners
	// Changed is called after every committed change (wakes the dispatcher).
	Changed func()
	// Committed, when set, hears of every committed change of a zone
	// before the zone's next change commits (a per-zone lock spans the
	// write and this call), so calls for one zone come in commit order:
	// the stored row and, for a save, the zone as parsed (nil for a
	// tombstone and for a resync). It hands changes to the backend
	// workers (dispatch.Dispatcher.Committed); Changed is called too.
	Committed func(row store.Zone, z *zone.Zone)
	Logger    *slog.Logger
	// Parsed receives every accepted zone, so backend workers need not
	// parse it again (nil: none).
	Parsed *zone.Cache
}

// Service saves and deletes zones.
type Service struct {
	opt  Options
	log  *slog.Logger
	live liveCount
	// zones serializes the changes of one zone with their Committed
	// calls (only when Committed is set).
	zones zoneLocks
	// beforeTombstone, when set (by tests), runs between a delete's
	// ownership check and its tombstone.
	beforeTombstone func()
}

// New returns a Service.
func New(opt Options) *Service {
	if opt.Changed == nil {
		opt.Changed = func() {}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Owners == nil {
		opt.Owners = Owners{}
	}
	return &Service{opt: opt, log: opt.Logger}
}

// Owners returns the owner identity comparer.
func (s *Service) Owners() Owners { return s.opt.Owners }

// Save validates body as zone name and stores it as pushed by host/user.
// A refused zone returns a *zone.Error and changes nothing. When Save
// returns nil the zone is durable. A push identical to the held zone (same
// canonical hash, same owner and user) changes nothing: no new version, no
// backend work; Save then returns the held row's metadata (no texts).
func (s *Service) Save(ctx context.Context, name zone.Name, body []byte, host, user string) (store.Zone, error) {
	// The pushed text is stored as a string; the zone is read from that
	// one copy.
	original := string(body)
	z, err := zone.ParseString(name, original, s.opt.ZoneLimits)
	if err != nil {
		s.log.Info("push refused", "zone", name, "host", host, "err", err)
		return store.Zone{}, err
	}
	for _, w := range z.Warnings {
		s.log.Warn("zone warning", "zone", name, "line", w.Line, "warning", w.Msg)
	}
	s.opt.Parsed.Put(z)
	// Only owner and hash are needed: Live reads metadata, not the zone texts.
	held, err := s.opt.Store.Live(ctx, []string{name.String()})
	if err != nil {
		return store.Zone{}, err
	}
	prev, found := held[name.String()]
	isNew := !found
	if isNew && s.opt.MaxZones > 0 {
		if err := s.checkZoneLimit(ctx); err != nil {
			return store.Zone{}, err
		}
	}
	switch {
	case isNew:
	case !s.opt.Owners.Same(prev.OwnerHost, host):
		// Even with identical content this is stored as a new version: the
		// version marks every change of the row, so a delete or a
		// reconciliation planned against the old owner sees it changed.
		s.log.Warn("zone ownership transferred", "zone", name, "from", prev.OwnerHost, "to", host)
	default:
		if user == "" {
			user = prev.OwnerUser
		}
		if prev.Hash == z.Hash() && user == prev.OwnerUser {
			// DirectAdmin pushes a new domain more than once: the held row
			// already says all this push says.
			s.log.Info("zone unchanged: identical push acknowledged", "zone", name, "host", host, "version", prev.Version)
			return prev, nil
		}
	}
	saved, err := s.put(ctx, store.Zone{
		Name: name.String(), Canonical: z.Text(), Original: original, Hash: z.Hash(),
		Serial: z.Serial, OwnerHost: host, OwnerUser: user,
	}, z)
	if err != nil {
		return store.Zone{}, err
	}
	s.opt.Changed()
	s.log.Info("zone saved", "zone", name, "host", host, "serial", z.Serial, "version", saved.Version, "records", len(z.Records))
	return saved, nil
}

// Outcome is what a delete did to one zone.
type Outcome int

// The outcomes of Delete.
const (
	Deleted  Outcome = iota // tombstoned
	Absent                  // not held: nothing to do
	NotOwner                // held by another DA server: refused
)

// maxDeleteTries bounds how often a delete decides afresh on a zone that
// concurrent pushes keep changing under it.
const maxDeleteTries = 8

// Delete tombstones name when host owns it, as a DA server's delete: the
// ownership check and the tombstone commit together, so a push that
// transfers the zone meanwhile wins. host is compared as given (through
// the aliases): an empty host matches only a zone stored without owner.
// Operators delete with DeleteAny.
func (s *Service) Delete(ctx context.Context, name zone.Name, host string) (Outcome, error) {
	return s.remove(ctx, name, host, func(cur store.Zone) bool { return s.opt.Owners.Same(cur.OwnerHost, host) })
}

// DeleteAny tombstones name whoever owns it: an operator's delete.
func (s *Service) DeleteAny(ctx context.Context, name zone.Name) (Outcome, error) {
	return s.remove(ctx, name, "(operator)", func(store.Zone) bool { return true })
}

// remove reads the zone, checks allowed on it and tombstones exactly the
// row it checked; when a push changed the row in between it decides again.
func (s *Service) remove(ctx context.Context, name zone.Name, requester string, allowed func(store.Zone) bool) (Outcome, error) {
	for try := 1; ; try++ {
		held, err := s.opt.Store.Live(ctx, []string{name.String()}) // metadata only
		if err != nil {
			return 0, err
		}
		cur, found := held[name.String()]
		if !found {
			s.log.Info("delete of unknown zone ignored", "zone", name, "host", requester)
			return Absent, nil
		}
		if !allowed(cur) {
			s.log.Warn("delete refused: zone owned by another server", "zone", name, "owner", cur.OwnerHost, "requester", requester)
			return NotOwner, nil
		}
		if s.beforeTombstone != nil {
			s.beforeTombstone()
		}
		err = s.deleteIfCurrent(ctx, name, cur)
		switch {
		case errors.Is(err, store.ErrChanged) && try < maxDeleteTries:
			continue
		case errors.Is(err, store.ErrNotFound):
			return Absent, nil
		case err != nil:
			return 0, err
		}
		s.opt.Changed()
		s.log.Info("zone deleted", "zone", name, "host", requester)
		return Deleted, nil
	}
}

// Resync stores the zone's current content again as a new version, so that
// every backend applies and verifies it afresh. ErrNotFound (from the
// store) when the zone is not held.
func (s *Service) Resync(ctx context.Context, name zone.Name) (store.Zone, error) {
	rows, err := s.opt.Store.Zones(ctx, []string{name.String()})
	if err != nil {
		return store.Zone{}, err
	}
	cur, ok := rows[name.String()]
	if !ok || cur.Deleted {
		return store.Zone{}, fmt.Errorf("push: resync %s: %w", name, store.ErrNotFound)
	}
	saved, err := s.put(ctx, store.Zone{
		Name: cur.Name, Canonical: cur.Canonical, Original: cur.Original, Hash: cur.Hash,
		Serial: cur.Serial, OwnerHost: cur.OwnerHost, OwnerUser: cur.OwnerUser,
	}, nil)
	if err != nil {
		return store.Zone{}, err
	}
	s.opt.Changed()
	s.log.Info("zone resync requested", "zone", name, "version", saved.Version)
	return saved, nil
}

// put stores a save and tells Committed of it under the zone's lock; z is
// the parsed zone (nil: not at hand).
func (s *Service) put(ctx context.Context, row store.Zone, z *zone.Zone) (store.Zone, error) {
	if s.opt.Committed == nil {
		return s.opt.Store.Put(ctx, row)
	}
	defer s.zones.lock(row.Name)()
	saved, err := s.opt.Store.Put(ctx, row)
	if err == nil {
		s.opt.Committed(saved, z)
	}
	return saved, err
}

// deleteIfCurrent tombstones the row cur checked and tells Committed of
// it under the zone's lock.
func (s *Service) deleteIfCurrent(ctx context.Context, name zone.Name, cur store.Zone) error {
	if s.opt.Committed == nil {
		_, err := s.opt.Store.DeleteIfCurrent(ctx, name.String(), cur.Version, cur.OwnerHost)
		return err
	}
	defer s.zones.lock(name.String())()
	row, err := s.opt.Store.DeleteIfCurrent(ctx, name.String(), cur.Version, cur.OwnerHost)
	if err == nil {
		s.opt.Committed(row, nil)
	}
	return err
}

// zoneLocks is one mutex per zone name in use.
type zoneLocks struct {
	mu sync.Mutex
	m  map[string]*zoneLock
}

type zoneLock struct {
	mu    sync.Mutex
	users int // holders and waiters
}

// lock locks name and returns its unlock.
func (l *zoneLocks) lock(name string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*zoneLock{}
	}
	zl := l.m[name]
	if zl == nil {
		zl = &zoneLock{}
		l.m[name] = zl
	}
	zl.users++
	l.mu.Unlock()
	zl.mu.Lock()
	return func() {
		zl.mu.Unlock()
		l.mu.Lock()
		if zl.users--; zl.users == 0 {
			delete(l.m, name)
		}
		l.mu.Unlock()
	}
}
