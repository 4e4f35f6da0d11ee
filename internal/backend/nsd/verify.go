package nsd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// queryTimeout bounds one DNS exchange with NSD.
const queryTimeout = 2 * time.Second

// Verify asks NSD (over TCP) for the zone's SOA until it serves the serial of the
// content with the given hash (NSD loads zones in the background after
// nsd-control returns), and, when transfers are allowed, compares the
// hash of the transferred zone too. The waiting ends VerifyTimeout after
// the last activation, so a batch never waits longer than that in total.
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
		return fmt.Errorf("nsd: verify %s: %w (serves %.12s, applied %.12s)", name, backend.ErrMismatch, z.Hash(), hash)
	}
	return nil
}

// expected returns the serial of the content with hash, from what Apply
// wrote or, after a restart, from the zone file.
func (b *Backend) expected(name zone.Name, hash string) (uint32, error) {
	e, ok := b.entry(name)
	if !ok {
		return 0, fmt.Errorf("nsd: verify %s: %w", name, backend.ErrNotFound)
	}
	if e.hash == hash {
		return e.serial, nil
	}
	z, err := readZone(name, e.file)
	if err != nil {
		return 0, fmt.Errorf("nsd: verify %s: read zone file: %w", name, err)
	}
	if z.Hash() != hash {
		return 0, fmt.Errorf("nsd: verify %s: %w (zone file holds %.12s, applied %.12s)", name, backend.ErrMismatch, z.Hash(), hash)
	}
	return z.Serial, nil
}

// waitSerial polls NSD until it answers the SOA with serial want.
func (b *Backend) waitSerial(ctx context.Context, name zone.Name, want uint32) error {
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	pause := 5 * time.Millisecond
	for {
		got, err := b.soaSerial(ctx, name)
		if err == nil && got == want {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%w: NSD serves serial %d, applied %d", backend.ErrMismatch, got, want)
		}
		if ctx.Err() != nil || time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("nsd: verify %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// soaSerial asks NSD for the zone's SOA; only an authoritative answer for
// the apex counts.
func (b *Backend) soaSerial(ctx context.Context, name zone.Name) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(name.FQDN(), dns.TypeSOA)
	// TCP: NSD's response rate limiting (on by default) drops or
	// truncates UDP answers to a client asking as often as a bulk
	// verification does; it does not limit TCP.
	c := &dns.Client{Net: "tcp", Timeout: queryTimeout}
	r, _, err := c.ExchangeContext(ctx, m, b.opt.VerifyAddr)
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", b.opt.VerifyAddr, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return 0, fmt.Errorf("NSD does not serve the zone (%s, aa=%v)", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, name.FQDN()) {
			return soa.Serial, nil
		}
	}
	return 0, errors.New("NSD answered without the SOA")
}

// transfer reads the zone from NSD by AXFR.
func (b *Backend) transfer(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	m := new(dns.Msg)
	m.SetAxfr(name.FQDN())
	tr := &dns.Transfer{DialTimeout: queryTimeout, ReadTimeout: 30 * time.Second}
	env, err := tr.In(m, b.opt.VerifyAddr)
	if err != nil {
		return nil, fmt.Errorf("nsd: transfer %s: %w", name, err)
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
			text.WriteString(rr.String())
			text.WriteByte('\n')
			n++
		}
	}
	if err != nil {
		return nil, fmt.Errorf("nsd: transfer %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	z, err := zone.Parse(name, []byte(text.String()), zone.Limits{MaxRecords: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("nsd: transfer %s: %w", name, err)
	}
	return z, nil
}
