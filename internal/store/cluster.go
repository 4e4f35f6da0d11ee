package store

import (
	"context"
	"time"
)

// Node is one dadns process among those sharing a store.
type Node struct {
	ID       string
	Version  string // dadns version it runs
	Addr     string // where it listens, for operators
	Started  time.Time
	LastSeen time.Time // last heartbeat
}

// Alive reports whether n heartbeated within timeout of now.
func (n Node) Alive(now time.Time, timeout time.Duration) bool {
	return !n.LastSeen.IsZero() && now.Sub(n.LastSeen) <= timeout
}

// Cluster is implemented by stores that several dadns nodes share (mysql).
// Its writes are optimistic: a claim or lease is an UPDATE whose WHERE
// says who may take it, and the number of rows changed says whether this
// node got it; on Galera, where row locks do not replicate, a conflicting
// commit fails certification and the whole transaction is run again.
type Cluster interface {
	// Heartbeat records that n is alive now (ID, Version, Addr, Started).
	Heartbeat(ctx context.Context, n Node) error
	// Nodes lists every node that ever heartbeated, by ID.
	Nodes(ctx context.Context) ([]Node, error)
	// ForgetNode removes a node, in one transaction: its heartbeat row,
	// its local backends' state (keys ending in "@"+id), and its claims
	// on shared work and its leases, released so that other nodes take
	// them at once rather than at expiry. It returns ErrNotFound, changing
	// nothing, when the store knows nothing of id.
	ForgetNode(ctx context.Context, id string) (Forgotten, error)

	// Claim is Due for a backend that several nodes share: it takes up to
	// limit due zones that no other node holds an unexpired claim on, and
	// claims them for node until now+lease. Applied and Failed release the
	// claims. A node that dies holding claims loses them at expiry.
	Claim(ctx context.Context, backend, node string, lease time.Duration, limit int) ([]Work, time.Time, error)
	// ForgetSuffix is Forget limited to the instances whose names end in
	// suffix (one node's local backends); every name in keep is registered.
	ForgetSuffix(ctx context.Context, suffix string, keep []string) error

	// Changes reports whether a push or delete was committed, by any
	// node, since the call that returned since (the zero mark: true), and
	// returns the mark to pass next time. A node polls it to wake its
	// workers for changes other nodes took. A change is seen even when it
	// committed after one numbered later: a push's sequence number is taken
	// when its transaction starts, and two pushes commit in either order
	// (a lock wait, a retry, a slow node), so the highest number alone can
	// stay the same across a commit.
	Changes(ctx context.Context, since ChangeMark) (ChangeMark, bool, error)

	// AcquireLease takes or renews the named lease for holder until
	// now+ttl. It reports false while another holder's lease is unexpired.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// Forgotten counts what ForgetNode removed or released.
type Forgotten struct {
	Node     bool // the heartbeat row was there
	Backends int  // local backend instances dropped
	States   int  // their per-zone state rows dropped
	Claims   int  // claims on shared work released
	Leases   int  // leases released
}

// ChangeMark is where a Changes poll stopped: a digest of the pushes and
// deletes stored with a sequence number of at least From. The zero mark
// is before everything.
type ChangeMark struct {
	From  int64  // lowest sequence number the digest covers
	Count int64  // zones with a sequence number ≥ From
	Xor   uint64 // their sequence numbers XORed
}
