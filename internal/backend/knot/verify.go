package knot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/dnsverify"
	"github.com/dadns/dadns/internal/zone"
)

// Verify asks knotd for the zone's SOA until it serves the serial of the
// content with the given hash (knotd loads zones it was just configured
// with in the background after the commit returns), and, when transfers are allowed, compares the hash of the
// transferred zone too. The waiting ends VerifyTimeout after the last
// activation, so a batch never waits longer than that in total.
func (b *Backend) Verify(ctx context.Context, name zone.Name, hash string) error {
	if err := checkName(name); err != nil {
		return err
	}
	want, err := b.expected(name, hash)
	if err != nil {
		return err
	}
	if err := b.waitSerial(ctx, name, want); err != nil {
		return b.explain(ctx, name, err)
	}
	if !b.opt.Transfer {
		return nil
	}
	z, err := b.transfer(ctx, name)
	if err != nil {
		return err
	}
	if z.Hash() != hash {
		return fmt.Errorf("knot: verify %s: %w (serves %.12s, applied %.12s)", name, backend.ErrMismatch, z.Hash(), hash)
	}
	return nil
}

// explain looks for knotd's reason when a zone was not served in time: a
// new plain zone (see plain) reaches knotd unchecked, so if knotd refused
// its file anyway, knotd's loader run now on the installed file says why,
// and the failure is permanent like a refusal found before activation.
// Nothing is checked when knotd is not there or ctx ended.
func (b *Backend) explain(ctx context.Context, name zone.Name, err error) error {
	if ctx.Err() != nil || errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	path, perr := b.zoneFile(name)
	if perr != nil {
		return err
	}
	if _, serr := os.Stat(path); serr != nil {
		return err
	}
	bad, cerr := b.check(ctx, []staged{{z: &zone.Zone{Name: name}, tmp: path, final: path}})
	if cerr == nil && bad[name] != nil {
		return bad[name]
	}
	return err
}

// expected returns the serial of the content with hash, from what Apply
// wrote or, after a restart of dadns, from the zone file's header.
func (b *Backend) expected(name zone.Name, hash string) (uint32, error) {
	e, ok := b.entry(name)
	if !ok {
		return 0, fmt.Errorf("knot: verify %s: %w", name, backend.ErrNotFound)
	}
	if e.hash != hash {
		return 0, fmt.Errorf("knot: verify %s: %w (zone file holds %.12s, applied %.12s)", name, backend.ErrMismatch, e.hash, hash)
	}
	return e.serial, nil
}

// verifier asks the daemon what it serves (internal/backend/dnsverify).
func (b *Backend) verifier() dnsverify.Server {
	return dnsverify.Server{Addr: b.opt.VerifyAddr, Label: "knot", Daemon: "knotd",
		Rewrite: generic,
	}
}

// waitSerial polls the daemon until it answers the SOA with serial want,
// until the batch's settle deadline.
func (b *Backend) waitSerial(ctx context.Context, name zone.Name, want uint32) error {
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	return b.poll.Wait(ctx, name, want, deadline)
}

// soaSerial asks the daemon for the zone's SOA serial.
func (b *Backend) soaSerial(ctx context.Context, name zone.Name) (uint32, error) {
	return b.verifier().SOASerial(ctx, name)
}

// transfer reads the zone from the daemon by AXFR.
func (b *Backend) transfer(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	return b.verifier().Transfer(ctx, name)
}

// Probe implements backend.Prober: "knotc status" answers only when knotd
// runs and its control socket is reachable. It changes nothing.
func (b *Backend) Probe(ctx context.Context) error {
	_, err := b.knotc.run(ctx, "status")
	return err
}

// generic writes in RFC 3597 form ("TYPE10 \\# 4 0a0b0c0d") the records
// whose presentation form the zone parser cannot read back, as the zone
// package's canonical text does: NULL, and APL without items.
func generic(rr dns.RR) dns.RR {
	switch r := rr.(type) {
	case *dns.NULL:
	case *dns.APL:
		if len(r.Prefixes) > 0 {
			return rr
		}
	default:
		return rr
	}
	g := new(dns.RFC3597)
	if err := g.ToRFC3597(rr); err != nil {
		return rr
	}
	return g
}
