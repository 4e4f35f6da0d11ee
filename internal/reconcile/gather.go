package reconcile

import (
	"context"
	"log/slog"
	"sync"

	"github.com/dadns/dadns/internal/directadmin"
	"github.com/dadns/dadns/internal/zone"
)

// probeParallel bounds the zone texts read at once from one server.
const probeParallel = 4

// pollAll asks every server in parallel; results keep configuration order.
func (r *Reconciler) pollAll(ctx context.Context, zones []NodeZone) []ServerResult {
	out := make([]ServerResult, len(r.servers))
	var wg sync.WaitGroup
	for i, s := range r.servers {
		wg.Go(func() { out[i] = r.poll(ctx, s, zones) })
	}
	wg.Wait()
	return out
}

// poll lists one server's zones and domains, then reads the SOA serial of
// each zone this node holds as owned by it. Any failure of the listing or
// the owners makes the whole answer unknown.
func (r *Reconciler) poll(ctx context.Context, c *directadmin.Client, zones []NodeZone) ServerResult {
	res := ServerResult{Host: c.Host()}
	log := r.log.With("server", c.Host())
	names, err := c.ListZones(ctx)
	if err == nil {
		res.Owners, err = c.DomainOwners(ctx)
	}
	if err != nil {
		log.Warn("reconcile: server answer unknown; it deletes nothing this pass", "err", err)
		res.Err = err.Error()
		return res
	}
	res.Complete = true
	res.Zones = make(map[string]bool, len(names))
	for _, n := range names {
		res.Zones[n] = true
	}
	res.Serials = r.probe(ctx, c, &res, zones, log)
	return res
}

// probe reads DA's serial of the zones held here and owned by this server.
// A zone whose text cannot be read or parsed just has no serial.
func (r *Reconciler) probe(ctx context.Context, c *directadmin.Client, res *ServerResult, zones []NodeZone, log *slog.Logger) map[string]uint32 {
	var todo []string
	for _, z := range zones {
		if r.owners.Same(z.Owner, res.Host) && res.has(z.Name) {
			todo = append(todo, z.Name)
		}
	}
	serials := make(map[string]uint32, len(todo))
	var mu sync.Mutex
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for _, name := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			serial, err := r.remoteSerial(ctx, c, name)
			if err != nil {
				log.Warn("reconcile: cannot read DA's serial", "zone", name, "err", err)
				return
			}
			mu.Lock()
			serials[name] = serial
			mu.Unlock()
		})
	}
	wg.Wait()
	return serials
}

// remoteSerial fetches and parses DA's text of name.
func (r *Reconciler) remoteSerial(ctx context.Context, c *directadmin.Client, name string) (uint32, error) {
	text, err := c.ZoneText(ctx, name)
	if err != nil {
		return 0, err
	}
	z, err := zone.Parse(zone.Name(name), text, r.opt.ZoneLimits)
	if err != nil {
		return 0, err
	}
	return z.Serial, nil
}
