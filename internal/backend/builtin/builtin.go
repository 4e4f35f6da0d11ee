// Package builtin is the backend that serves zones from dadns's own
// authoritative DNS server (internal/dnsserver): nothing else to install.
package builtin

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/dnsserver"
	"github.com/dadns/dadns/internal/zone"
)

// Backend serves zones from an in-process dnsserver.Server.
type Backend struct {
	srv *dnsserver.Server

	mu    sync.RWMutex
	zones map[zone.Name]*zone.Zone // what was handed to srv, for Zone()
}

// New returns a backend serving through srv. The caller starts srv's
// listeners (see Listen).
func New(srv *dnsserver.Server) *Backend {
	return &Backend{srv: srv, zones: map[zone.Name]*zone.Zone{}}
}

// Server returns the DNS server behind the backend.
func (b *Backend) Server() *dnsserver.Server { return b.srv }

// Volatile reports true: the served set lives in memory and is rebuilt
// from the store on every start.
func (b *Backend) Volatile() bool { return true }

// Apply swaps the zones into the served snapshot in one step.
func (b *Backend) Apply(ctx context.Context, zones []*zone.Zone) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	set := make([]*dnsserver.Zone, 0, len(zones))
	for _, z := range zones {
		set = append(set, &dnsserver.Zone{Origin: z.Name.FQDN(), Hash: z.Hash(), RRs: z.RRs()})
	}
	b.srv.Apply(set, nil)
	b.mu.Lock()
	for _, z := range zones {
		b.zones[z.Name] = z
	}
	b.mu.Unlock()
	return nil
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
	b.mu.Lock()
	for _, n := range names {
		delete(b.zones, n)
	}
	b.mu.Unlock()
	return nil
}

// Zone returns the zone as served.
func (b *Backend) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	b.mu.RLock()
	z, ok := b.zones[name]
	b.mu.RUnlock()
	if !ok {
		return nil, backend.ErrNotFound
	}
	if h, served := b.srv.Served(name.FQDN()); !served || h != z.Hash() {
		return nil, fmt.Errorf("builtin: zone %s: %w", name, backend.ErrMismatch)
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
