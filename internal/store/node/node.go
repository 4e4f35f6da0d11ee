// Package node binds a shared store to one dadns node. Backends are local
// (each node applies every zone to its own: builtin, bind, nsd, knot) or
// shared (one database every node writes: coredns_mysql, powerdns). A local
// backend's applied state is kept under "<backend>@<node>", so every node
// tracks its own copy; a shared backend's under its plain name, and a node
// takes its work with a claim so that one node applies a given change.
// The dispatcher, status and reconciler use the bound store as any other:
// they name backends as configured.
package node

import (
	"context"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// Options configure Bind.
type Options struct {
	ID     string                    // this node
	Shared func(backend string) bool // whether an instance is shared; nil: none
	Lease  time.Duration             // how long a claim on shared work lasts; default 60s
}

// Store is a store.Store seen from one node.
type Store struct {
	store.Store
	c   store.Cluster
	opt Options
}

var _ store.Store = (*Store)(nil)

// Bind returns st as seen from node opt.ID; c is st's cluster side.
func Bind(st store.Store, c store.Cluster, opt Options) *Store {
	if opt.Lease <= 0 {
		opt.Lease = 60 * time.Second
	}
	if opt.Shared == nil {
		opt.Shared = func(string) bool { return false }
	}
	return &Store{Store: st, c: c, opt: opt}
}

// Key is the state key of backend on this node.
func (s *Store) Key(backend string) string {
	if s.opt.Shared(backend) {
		return backend
	}
	return LocalKey(backend, s.opt.ID)
}

// LocalKey is the state key of a local backend instance on node id.
func LocalKey(backend, id string) string { return backend + "@" + id }

// Due takes local work directly and shared work by claim.
func (s *Store) Due(ctx context.Context, backend string, limit int) ([]store.Work, time.Time, error) {
	if s.opt.Shared(backend) {
		return s.c.Claim(ctx, backend, s.opt.ID, s.opt.Lease, limit)
	}
	return s.Store.Due(ctx, s.Key(backend), limit)
}

// Applied records on this node's key.
func (s *Store) Applied(ctx context.Context, backend string, done []store.Applied) error {
	return s.Store.Applied(ctx, s.Key(backend), done)
}

// Failed records on this node's key.
func (s *Store) Failed(ctx context.Context, backend string, fails []store.Failure) error {
	return s.Store.Failed(ctx, s.Key(backend), fails)
}

// RetryNow reschedules this node's key.
func (s *Store) RetryNow(ctx context.Context, backend string) (int, error) {
	return s.Store.RetryNow(ctx, s.Key(backend))
}

// Pending counts this node's key.
func (s *Store) Pending(ctx context.Context, backend string) (int, int, error) {
	return s.Store.Pending(ctx, s.Key(backend))
}

// Summary summarizes this node's key.
func (s *Store) Summary(ctx context.Context, backend string) (store.Summary, error) {
	sum, err := s.Store.Summary(ctx, s.Key(backend))
	sum.Backend = backend
	return sum, err
}

// Forget drops this node's local instances not in keep and registers the
// kept ones, local and shared. Other nodes' instances are left alone, and
// so are shared instances no node configures any more (ForgetNode and the
// operator remove those).
func (s *Store) Forget(ctx context.Context, keep []string) error {
	keys := make([]string, len(keep))
	for i, b := range keep {
		keys[i] = s.Key(b)
	}
	return s.c.ForgetSuffix(ctx, "@"+s.opt.ID, keys)
}

// OperatorStore is a bound store whose database also answers the operator
// pages' queries (store.Operator); ResyncOn maps the backend to this
// node's key like the other per-backend calls.
type OperatorStore struct {
	*Store
	op store.Operator
}

var _ store.Operator = OperatorStore{}

// WithOperator returns s with the operator queries of op (the same
// database), or nil when op is nil.
func WithOperator(s *Store, op store.Operator) store.Store {
	if op == nil {
		return s
	}
	return OperatorStore{Store: s, op: op}
}

// ZonePage passes through.
func (o OperatorStore) ZonePage(ctx context.Context, q store.ZoneQuery) (store.ZonePage, error) {
	return o.op.ZonePage(ctx, q)
}

// StatesOf passes through (every node's rows).
func (o OperatorStore) StatesOf(ctx context.Context, zones []string) (map[string][]store.BackendState, error) {
	return o.op.StatesOf(ctx, zones)
}

// RecentFailures passes through (every node's rows).
func (o OperatorStore) RecentFailures(ctx context.Context, limit int) ([]store.BackendState, int, error) {
	return o.op.RecentFailures(ctx, limit)
}

// History passes through.
func (o OperatorStore) History(ctx context.Context, zone string) ([]store.HistoryEntry, error) {
	return o.op.History(ctx, zone)
}

// RetryZoneNow passes through (every node's rows of the zone).
func (o OperatorStore) RetryZoneNow(ctx context.Context, zone string) (int, error) {
	return o.op.RetryZoneNow(ctx, zone)
}

// ResyncOn resyncs this node's copy of a local backend, or the shared one.
func (o OperatorStore) ResyncOn(ctx context.Context, zone, backend string) error {
	return o.op.ResyncOn(ctx, zone, o.Key(backend))
}

// SizeBytes passes through.
func (o OperatorStore) SizeBytes(ctx context.Context) (int64, error) {
	return o.op.SizeBytes(ctx)
}

// EachLive streams the live zones (reconciliation's read of every zone)
// when the shared store can, and walks List otherwise.
func (s *Store) EachLive(ctx context.Context, fn func(store.Zone) error) error {
	if l, ok := s.Store.(interface {
		EachLive(context.Context, func(store.Zone) error) error
	}); ok {
		return l.EachLive(ctx, fn)
	}
	zones, err := s.Store.List(ctx)
	if err != nil {
		return err
	}
	for _, z := range zones {
		if err := fn(z); err != nil {
			return err
		}
	}
	return nil
}
