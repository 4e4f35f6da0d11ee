package reconcile

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/directadmin"
	"github.com/dadns/dadns/internal/zone"
)

// probeParallel bounds the zone texts read at once from one server.
const probeParallel = 4

// keepTextBytes bounds the zone texts one server's probe keeps for the
// apply (a stale zone's text is read once per pass, not twice); texts past
// it are read again when applied.
const keepTextBytes = 16 << 20

// pollAll asks every server in parallel; results keep configuration order.
func (r *Reconciler) pollAll(ctx context.Context, zones []NodeZone) []ServerResult {
	out := make([]ServerResult, len(r.servers))
	var wg sync.WaitGroup
	for i, s := range r.servers {
		wg.Go(func() { out[i] = r.poll(ctx, s, r.opt.Servers[i], zones) })
	}
	wg.Wait()
	return out
}

// poll lists one server's zones and domains, then learns the SOA serial of
// each zone this node holds as owned by it. Any failure of the listing or
// the owners makes the whole answer unknown.
func (r *Reconciler) poll(ctx context.Context, c *directadmin.Client, cfg config.DirectAdminServer, zones []NodeZone) ServerResult {
	res := ServerResult{Host: c.Host()}
	log := r.log.With("server", c.Host())
	start := time.Now()
	names, err := c.ListZoneSet(ctx)
	if err == nil {
		res.Owners, err = c.DomainOwners(ctx)
	}
	res.Cost.ListSeconds = time.Since(start).Seconds()
	if err != nil {
		log.Warn("reconcile: server answer unknown; it deletes nothing this pass", "err", err)
		res.Err = err.Error()
		return res
	}
	res.Complete = true
	res.Zones = names
	r.probe(ctx, c, cfg, &res, zones, log)
	return res
}

// probe learns DA's serial of the zones held here and owned by this
// server. With the DNS serial check, the server's DNS is asked for each
// zone's SOA; a zone whose serial equals the stored one is settled there,
// and only the others (serial differs, or no usable answer) have their
// text read over HTTP, as every zone has without it. A zone whose text
// cannot be read or parsed just has no serial: nothing is done to it.
func (r *Reconciler) probe(ctx context.Context, c *directadmin.Client, cfg config.DirectAdminServer, res *ServerResult, zones []NodeZone, log *slog.Logger) {
	var todo []NodeZone
	for _, z := range zones {
		if r.owners.Same(z.Owner, res.Host) && res.has(z.Name) {
			todo = append(todo, z)
		}
	}
	res.Cost.Held = len(todo)
	res.Cost.SerialCheck = config.SerialCheckHTTP
	read := todo
	if cfg.SerialCheck != config.SerialCheckHTTP && len(todo) > 0 {
		res.Cost.SerialCheck = config.SerialCheckDNS
		start := time.Now()
		read = r.dnsSerials(ctx, cfg, res, todo, log)
		res.Cost.DNSSeconds = time.Since(start).Seconds()
	}
	start := time.Now()
	res.Serials, res.Texts = r.readSerials(ctx, c, res, read, log)
	res.Cost.TextSeconds = time.Since(start).Seconds()
}

// dnsSerials asks the server's DNS for the SOA of each zone in todo and
// returns the zones whose text must still be read.
func (r *Reconciler) dnsSerials(ctx context.Context, cfg config.DirectAdminServer, res *ServerResult, todo []NodeZone, log *slog.Logger) []NodeZone {
	names := make([]string, len(todo))
	for i, z := range todo {
		names[i] = z.Name
	}
	addr := DNSAddress(cfg)
	results, st := directadmin.SOASerials(ctx, directadmin.SOAOptions{
		Address: addr, Timeout: r.opt.DNSTimeout, Parallel: r.opt.DNSParallel,
	}, names)
	res.Cost.DNSQueries = st.UDP + st.TCP
	var read []NodeZone
	var firstErr error
	for i, a := range results {
		switch {
		case a.Err != nil:
			res.Cost.DNSFallbacks++
			if firstErr == nil {
				firstErr = a.Err
			}
			read = append(read, todo[i])
		case a.Serial == todo[i].Serial:
			res.Cost.DNSUnchanged++
		default:
			res.Cost.DNSChanged++
			read = append(read, todo[i])
		}
	}
	if firstErr != nil {
		if st.GaveUp {
			res.Cost.DNSError = "DNS at " + addr + " not answering: " + firstErr.Error()
		}
		log.Warn("reconcile: no usable DNS answer for some zones; their texts are read over HTTP",
			"dns", addr, "zones", res.Cost.DNSFallbacks, "of", len(todo), "gave_up", st.GaveUp, "first_err", firstErr)
	}
	return read
}

// DNSAddress is where a server's zone serials are asked: dns_address, or
// the hostname on port 53.
func DNSAddress(s config.DirectAdminServer) string {
	if s.DNSAddress != "" {
		return s.DNSAddress
	}
	return net.JoinHostPort(s.Hostname, "53")
}

// readSerials reads the texts of zones over HTTP and parses their serials;
// it keeps the texts (up to keepTextBytes) for the apply.
func (r *Reconciler) readSerials(ctx context.Context, c *directadmin.Client, res *ServerResult, zones []NodeZone, log *slog.Logger) (map[string]uint32, map[string][]byte) {
	serials := make(map[string]uint32, len(zones))
	texts := map[string][]byte{}
	kept := 0
	var mu sync.Mutex
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for _, z := range zones {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			text, serial, err := r.remoteSerial(ctx, c, z.Name)
			mu.Lock()
			defer mu.Unlock()
			res.Cost.Texts++
			if err != nil {
				log.Warn("reconcile: cannot read DA's serial", "zone", z.Name, "err", err)
				return
			}
			serials[z.Name] = serial
			if SerialNewer(serial, z.Serial) && kept+len(text) <= keepTextBytes {
				texts[z.Name] = text
				kept += len(text)
			}
		})
	}
	wg.Wait()
	return serials, texts
}

// remoteSerial fetches and parses DA's text of name.
func (r *Reconciler) remoteSerial(ctx context.Context, c *directadmin.Client, name string) ([]byte, uint32, error) {
	text, err := c.ZoneText(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	z, err := zone.Parse(zone.Name(name), text, r.opt.ZoneLimits)
	if err != nil {
		return nil, 0, err
	}
	return text, z.Serial, nil
}
