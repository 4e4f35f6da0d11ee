// Package dnsverify asks a DNS daemon fed by a backend (named, NSD, knotd)
// what it serves: the SOA serial of a zone, waited for while the daemon
// loads, and the whole zone by AXFR where the operator allows transfers.
package dnsverify

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

// QueryTimeout bounds one DNS exchange with the daemon.
const QueryTimeout = 2 * time.Second

// Server is a daemon to ask.
type Server struct {
	Addr   string // host:port it answers on
	Label  string // starts error messages: the backend type ("bind")
	Daemon string // names the daemon in messages ("named")
	// Rewrite, when set, changes each transferred record before it is
	// read back (a daemon's spelling of a type dadns writes otherwise).
	Rewrite func(dns.RR) dns.RR
	// TCP asks over TCP: a daemon whose response rate limiting is on (NSD
	// by default) would limit the burst of SOA queries a large batch
	// verifies with over UDP.
	TCP bool
}

// WaitSerial polls the daemon until it answers the SOA with serial want,
// backing off from 10 to 250 ms, until deadline. Waiting helps while the
// daemon loads; when nothing listens it gives up at once.
func (s Server) WaitSerial(ctx context.Context, name zone.Name, want uint32, deadline time.Time) error {
	pause := 10 * time.Millisecond
	for {
		got, err := s.SOASerial(ctx, name)
		if err == nil && got == want {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%w: %s serves serial %d, applied %d", backend.ErrMismatch, s.Daemon, got, want)
		}
		if ctx.Err() != nil || time.Now().Add(pause).After(deadline) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%s: verify %s: %w", s.Label, name, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// SOASerial asks the daemon for the zone's SOA; only an authoritative
// answer for the apex counts.
func (s Server) SOASerial(ctx context.Context, name zone.Name) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(name.FQDN(), dns.TypeSOA)
	c := &dns.Client{Timeout: QueryTimeout}
	if s.TCP {
		c.Net = "tcp"
	}
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, s.Addr)
	}
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", s.Addr, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return 0, fmt.Errorf("%s does not serve the zone (%s, aa=%v)", s.Daemon, dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, name.FQDN()) {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("%s answered without the SOA", s.Daemon)
}

// Transfer reads the zone from the daemon by AXFR.
func (s Server) Transfer(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	m := new(dns.Msg)
	m.SetAxfr(name.FQDN())
	tr := &dns.Transfer{DialTimeout: QueryTimeout, ReadTimeout: 30 * time.Second}
	env, err := tr.In(m, s.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: transfer %s: %w", s.Label, name, err)
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
			if s.Rewrite != nil {
				rr = s.Rewrite(rr)
			}
			text.WriteString(rr.String())
			text.WriteByte('\n')
			n++
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: transfer %s: %w", s.Label, name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	z, err := zone.Parse(name, []byte(text.String()), zone.Limits{MaxRecords: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("%s: transfer %s: %w", s.Label, name, err)
	}
	return z, nil
}
