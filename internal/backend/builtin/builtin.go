// Package builtin is the backend that serves zones from dadns's own
// authoritative DNS server (internal/dnsserver): nothing else to install.
package builtin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/zone"
)

// Backend serves zones from an in-process dnsserver.Server. It keeps no
// copy of the zones itself: the server holds them in its compact packed
// form, shared with every other builtin backend of the process that
// serves the same zone content, and Zone reads them back from there.
type Backend struct {
	srv *dnsserver.Server

	mu     sync.RWMutex
	loaded bool               // Load filled the server from the store
	held   *dnsserver.Sockets // bound, answered only once Load is done
}

// New returns a backend serving through srv. The caller starts srv's
// listeners (see Listen).
func New(srv *dnsserver.Server) *Backend {
	return &Backend{srv: srv}
}

// NewHeld returns a backend serving through srv that answers on k only
// once Load has put the stored zones in: until then queries wait in the
// kernel rather than meet an empty server that would refuse them.
func NewHeld(srv *dnsserver.Server, k *dnsserver.Sockets) *Backend {
	b := New(srv)
	b.held = k
	return b
}

// Close releases held sockets that Load never served and ends the
// server's dnstap output (writing what is queued).
func (b *Backend) Close() error {
	b.mu.Lock()
	k := b.held
	b.held = nil
	b.mu.Unlock()
	err := b.srv.Close()
	if k == nil {
		return err
	}
	return errors.Join(err, k.Close())
}

// Server returns the DNS server behind the backend.
func (b *Backend) Server() *dnsserver.Server { return b.srv }

// Volatile reports whether the served set was lost with the last process:
// true until Load has filled the server with the stored zones again.
func (b *Backend) Volatile() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return !b.loaded
}

// Preload puts zones into the server before it answers, without starting
// it: a restart with many zones hands them over in parts (Preload for
// each, then Load with the last) so the parsed form of every stored zone is
// never held at once. It returns the zones that could not be served.
func (b *Backend) Preload(ctx context.Context, zones []*zone.Zone) (map[zone.Name]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.apply(zones), nil
}

// Load serves zones in one step and marks the backend as holding what the
// store holds (no longer Volatile); zones is the desired state of every
// live zone in the store. Then it starts answering on the sockets given to
// NewHeld, until ctx ends. It returns the zones that could not be served,
// which the caller must have applied again.
func (b *Backend) Load(ctx context.Context, zones []*zone.Zone) (map[zone.Name]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	failed := b.apply(zones)
	b.mu.Lock()
	b.loaded = true
	k := b.held
	b.held = nil
	b.mu.Unlock()
	if k != nil {
		if err := b.srv.Serve(ctx, k); err != nil {
			return failed, fmt.Errorf("builtin: %w", err)
		}
	}
	return failed, nil
}

// Apply swaps the zones into the served snapshot in one step. A zone the
// server cannot index fails on its own.
func (b *Backend) Apply(ctx context.Context, zones []*zone.Zone) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := b.apply(zones)
	var errs []error
	for n, err := range failed {
		errs = append(errs, &backend.ZoneError{Zone: n, Err: backend.Permanent(err)})
	}
	return errors.Join(errs...)
}

// apply hands zones to the server and returns those it could not serve.
func (b *Backend) apply(zones []*zone.Zone) map[zone.Name]error {
	set := make([]*dnsserver.Zone, 0, len(zones))
	for _, z := range zones {
		set = append(set, &dnsserver.Zone{Origin: z.Name.FQDN(), Hash: z.Hash(), RRs: z.RRs()})
	}
	bad := b.srv.Apply(set, nil)
	var failed map[zone.Name]error
	for _, z := range zones {
		if err, ok := bad[z.Name.FQDN()]; ok {
			if failed == nil {
				failed = map[zone.Name]error{}
			}
			failed[z.Name] = err
		}
	}
	return failed
}

// Delete removes zones from the served snapshot; absent ones are ignored.
func (b *Backend) Delete(ctx context.Context, names []zone.Name) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	origins := make([]string, len(names))
	for i, n := range names {
		origins[i] = n.FQDN()
	}
	b.srv.Apply(nil, origins)
	return nil
}

// Zone returns the zone as served, read back from the server's packed
// form (and checked against the hash it was applied with).
func (b *Backend) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	sz, ok := b.srv.Zone(name.FQDN())
	if !ok {
		return nil, backend.ErrNotFound
	}
	z, err := zone.FromRRs(name, sz.RRs, sz.Hash)
	if err != nil {
		return nil, fmt.Errorf("builtin: zone %s: %w: %v", name, backend.ErrMismatch, err)
	}
	return z, nil
}

// Zones lists the served zones.
func (b *Backend) Zones(ctx context.Context) ([]zone.Name, error) {
	origins := b.srv.Origins()
	out := make([]zone.Name, 0, len(origins))
	for _, o := range origins {
		out = append(out, zone.Name(strings.TrimSuffix(o, ".")))
	}
	return out, nil
}

// Verify checks that the served snapshot holds the zone's canonical hash.
func (b *Backend) Verify(ctx context.Context, name zone.Name, hash string) error {
	h, ok := b.srv.Served(name.FQDN())
	if !ok {
		return fmt.Errorf("builtin: verify %s: %w", name, backend.ErrNotFound)
	}
	if h != hash {
		return fmt.Errorf("builtin: verify %s: %w", name, backend.ErrMismatch)
	}
	return nil
}

// Probe implements backend.Prober: the server runs inside dadns, so it is
// up whenever dadns is.
func (b *Backend) Probe(ctx context.Context) error { return nil }
