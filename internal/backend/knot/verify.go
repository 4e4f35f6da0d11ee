package knot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// queryTimeout bounds one DNS exchange with knotd.
const queryTimeout = 2 * time.Second

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
		return err
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

// waitSerial polls knotd until it answers the SOA with serial want.
func (b *Backend) waitSerial(ctx context.Context, name zone.Name, want uint32) error {
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	pause := 10 * time.Millisecond
	for {
		got, err := b.soaSerial(ctx, name)
		if err == nil && got == want {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%w: knotd serves serial %d, applied %d", backend.ErrMismatch, got, want)
		}
		// Waiting helps while knotd loads; not when nothing listens.
		if ctx.Err() != nil || time.Now().Add(pause).After(deadline) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("knot: verify %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// soaSerial asks knotd for the zone's SOA; only an authoritative answer
// for the apex counts.
func (b *Backend) soaSerial(ctx context.Context, name zone.Name) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(name.FQDN(), dns.TypeSOA)
	c := &dns.Client{Timeout: queryTimeout}
	r, _, err := c.ExchangeContext(ctx, m, b.opt.VerifyAddr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, b.opt.VerifyAddr)
	}
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", b.opt.VerifyAddr, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return 0, fmt.Errorf("knotd does not serve the zone (%s, aa=%v)", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, name.FQDN()) {
			return soa.Serial, nil
		}
	}
	return 0, errors.New("knotd answered without the SOA")
}

// transfer reads the zone from knotd by AXFR.
func (b *Backend) transfer(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	m := new(dns.Msg)
	m.SetAxfr(name.FQDN())
	tr := &dns.Transfer{DialTimeout: queryTimeout, ReadTimeout: 30 * time.Second}
	env, err := tr.In(m, b.opt.VerifyAddr)
	if err != nil {
		return nil, fmt.Errorf("knot: transfer %s: %w", name, err)
	}
	var text strings.Builder
	n := 0
	for e := range env {
		if e.Error != nil {
			err = e.Error
			continue
		}
		for _, rr := range e.RR {
			if n > 0 && rr.Header().Rrtype == dns.TypeSOA {
				continue // the closing SOA
			}
			text.WriteString(generic(rr).String())
			text.WriteByte('\n')
			n++
		}
	}
	if err != nil {
		return nil, fmt.Errorf("knot: transfer %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	z, err := zone.Parse(name, []byte(text.String()), zone.Limits{MaxRecords: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("knot: transfer %s: %w", name, err)
	}
	return z, nil
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
