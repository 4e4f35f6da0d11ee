package nsd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/dnsverify"
	"github.com/dadns/dadns/internal/zone"
)

// Verify asks NSD for the zone's SOA until it serves the serial of the
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

// verifier asks the daemon what it serves (internal/backend/dnsverify).
func (b *Backend) verifier() dnsverify.Server {
	return dnsverify.Server{Addr: b.opt.VerifyAddr, Label: "nsd", Daemon: "NSD", TCP: true}
}

// waitSerial polls NSD until it answers the SOA with serial want, backing
// off from 10 to 250 ms, until the batch's settle deadline; nothing
// listening ends it at once. The first SERVFAIL has nsd-checkzone read the
// installed file: NSD answers SERVFAIL for a zone whose file it failed to
// load (a new zone is not checked before NSD sees it), so a refused file
// fails the zone permanently with NSD's reason, while a file the check
// accepts (NSD still loading) is waited for.
func (b *Backend) waitSerial(ctx context.Context, name zone.Name, want uint32) error {
	if err, ok := b.poll.Claim(ctx, name, want); ok {
		return err // the zone of a batch: see servfail
	}
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	pause := 10 * time.Millisecond
	checked := false
	for {
		got, rcode, err := b.soa(ctx, name)
		if err == nil && got == want {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%w: NSD serves serial %d, applied %d", backend.ErrMismatch, got, want)
		}
		if rcode == dns.RcodeServerFailure && !checked && b.check.available() {
			checked = true
			if e, ok := b.entry(name); ok {
				refused, cerr := b.check.run(ctx, name, e.file)
				if refused != nil {
					return refused
				}
				if cerr != nil {
					return fmt.Errorf("nsd: verify %s: %w", name, cerr)
				}
			}
		}
		if ctx.Err() != nil || time.Now().Add(pause).After(deadline) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("nsd: verify %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// servfail is the verification poller's answer to a SERVFAIL for a zone
// of an activated batch: nsd-checkzone reads the installed file once, as
// waitSerial does; a refused file ends the wait with NSD's reason.
func (b *Backend) servfail(ctx context.Context, name zone.Name) error {
	if !b.check.available() {
		return nil
	}
	e, ok := b.entry(name)
	if !ok {
		return nil
	}
	refused, err := b.check.run(ctx, name, e.file)
	if refused != nil {
		return refused
	}
	if err != nil {
		return fmt.Errorf("nsd: verify %s: %w", name, err)
	}
	return nil
}

// soa asks NSD for the zone's SOA (over TCP, as dnsverify does for NSD:
// its response rate limiting would limit a burst over UDP) and returns
// the serial of an authoritative answer, or the rcode and why not.
func (b *Backend) soa(ctx context.Context, name zone.Name) (uint32, int, error) {
	m := new(dns.Msg)
	m.SetQuestion(name.FQDN(), dns.TypeSOA)
	r, err := b.ask.exchange(ctx, m)
	if err != nil {
		return 0, -1, fmt.Errorf("query %s: %w", b.opt.VerifyAddr, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return 0, r.Rcode, fmt.Errorf("NSD does not serve the zone (%s, aa=%v)", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, name.FQDN()) {
			return soa.Serial, r.Rcode, nil
		}
	}
	return 0, r.Rcode, fmt.Errorf("NSD answered without the SOA")
}

// soaSerial asks the daemon for the zone's SOA serial.
func (b *Backend) soaSerial(ctx context.Context, name zone.Name) (uint32, error) {
	return b.verifier().SOASerial(ctx, name)
}

// asker keeps one TCP connection to NSD for SOA queries: a batch verifies
// thousands of zones one after another, and a connection per query costs
// more than the query. A query that finds the connection busy (another
// Verify at the same time) uses a connection of its own; a failure on a
// kept connection (NSD closed it when idle, or restarted) is retried once
// on a new one.
type asker struct {
	addr string
	mu   sync.Mutex
	conn *dns.Conn
}

func (a *asker) exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: "tcp", Timeout: dnsverify.QueryTimeout}
	if !a.mu.TryLock() {
		r, _, err := c.ExchangeContext(ctx, m, a.addr)
		return r, err
	}
	defer a.mu.Unlock()
	for {
		fresh := a.conn == nil
		if fresh {
			conn, err := c.DialContext(ctx, a.addr)
			if err != nil {
				return nil, err
			}
			a.conn = conn
		}
		r, _, err := c.ExchangeWithConnContext(ctx, m, a.conn)
		if err == nil {
			return r, nil
		}
		a.conn.Close()
		a.conn = nil
		if fresh || ctx.Err() != nil {
			return nil, err
		}
	}
}

// close closes the kept connection.
func (a *asker) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn != nil {
		a.conn.Close()
		a.conn = nil
	}
}

// Close closes the connection Verify keeps to NSD.
func (b *Backend) Close() error {
	b.ask.close()
	return nil
}

// transfer reads the zone from the daemon by AXFR. Records whose text form
// the zone parser does not read back (a few rare types print differently
// from how zone files spell them) are compared with the zone file instead,
// record for record in wire form: NSD serves the file when they agree.
func (b *Backend) transfer(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	z, terr := b.verifier().Transfer(ctx, name)
	if terr == nil {
		return z, nil
	}
	e, ok := b.entry(name)
	if !ok {
		return nil, terr
	}
	rrs, err := b.axfr(ctx, name)
	if err != nil {
		return nil, terr
	}
	f, err := readZone(name, e.file)
	if err != nil || !sameRRs(rrs, f.RRs()) {
		return nil, terr
	}
	return f, nil
}

// axfr returns the zone's records as NSD transfers them, without the
// closing SOA.
func (b *Backend) axfr(ctx context.Context, name zone.Name) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetAxfr(name.FQDN())
	tr := &dns.Transfer{DialTimeout: dnsverify.QueryTimeout, ReadTimeout: 30 * time.Second}
	env, err := tr.In(m, b.opt.VerifyAddr)
	if err != nil {
		return nil, fmt.Errorf("nsd: transfer %s: %w", name, err)
	}
	var out []dns.RR
	for e := range env {
		if e.Error != nil {
			err = e.Error
			continue
		}
		for _, rr := range e.RR {
			if len(out) > 0 && rr.Header().Rrtype == dns.TypeSOA {
				continue // the closing SOA
			}
			out = append(out, rr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("nsd: transfer %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// sameRRs compares two record sets in uncompressed wire form, owner names
// case-folded.
func sameRRs(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	wa, wb := wireSet(a), wireSet(b)
	if wa == nil || wb == nil {
		return false
	}
	slices.Sort(wa)
	slices.Sort(wb)
	return slices.Equal(wa, wb)
}

func wireSet(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	buf := make([]byte, dns.MaxMsgSize)
	for _, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = strings.ToLower(c.Header().Name)
		n, err := dns.PackRR(c, buf, 0, nil, false)
		if err != nil {
			return nil
		}
		out = append(out, string(buf[:n]))
	}
	return out
}
