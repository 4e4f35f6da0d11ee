package dnsverify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Poller verifies the zones of activated batches together. The dispatcher
// verifies a batch one zone after another; asked one SOA at a time, a
// batch of thousands of zones waits a round trip (and a socket) per
// zone, one after the other, even when the daemon serves them all. Once a
// backend has activated a batch it hands the Poller the serials it
// expects (Expect); the Poller then asks the daemon for every pending
// zone, several queries at a time over kept connections, in rounds
// backing off from 10 to 250 ms, until each serves its serial or the
// batch's deadline passes. Wait returns a zone's outcome as soon as it is
// known, and asks the daemon itself for zones it was not handed.
type Poller struct {
	srv Server
	// Conns is how many queries are in flight at once, each on its own
	// kept connection (UDP, or TCP with Server.TCP).
	conns int
	// OnServfail, when set, is called once per pending zone the daemon
	// answers SERVFAIL for; a non-nil error ends the zone's wait with it
	// (a daemon that refused the zone's file: the backend's checker says
	// why), nil keeps waiting (the daemon is still loading).
	onServfail func(ctx context.Context, name zone.Name) error

	mu      sync.Mutex
	pending map[zone.Name]*expectation
	running bool
	kick    chan struct{} // new zones while a round sleeps
}

// expectation is one zone the Poller waits for.
type expectation struct {
	want     uint32
	deadline time.Time
	done     chan struct{} // closed when err is final
	err      error
	checked  bool      // onServfail ran
	finished time.Time // when done closed; unclaimed outcomes expire
}

// DefaultConns is how many SOA queries a Poller keeps in flight.
const DefaultConns = 8

// keepOutcome is how long an outcome nobody asked for is kept.
const keepOutcome = time.Minute

// NewPoller returns a Poller asking srv with conns queries in flight (0:
// DefaultConns). onServfail may be nil.
func NewPoller(srv Server, conns int, onServfail func(ctx context.Context, name zone.Name) error) *Poller {
	if conns <= 0 {
		conns = DefaultConns
	}
	return &Poller{srv: srv, conns: conns, onServfail: onServfail, pending: map[zone.Name]*expectation{}, kick: make(chan struct{}, 1)}
}

// Expect hands the Poller zones an activation should make the daemon
// serve with these serials, each waited for until deadline. A zone
// expected again replaces its earlier expectation.
func (p *Poller) Expect(want map[zone.Name]uint32, deadline time.Time) {
	if len(want) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for n, e := range p.pending {
		if !e.finished.IsZero() && now.Sub(e.finished) > keepOutcome {
			delete(p.pending, n)
		}
	}
	for n, s := range want {
		old := p.pending[n]
		if old != nil && old.finished.IsZero() {
			if old.want == s {
				old.deadline = deadline
				continue
			}
			p.finish(old, fmt.Errorf("%s: verify %s: %w: serial %d superseded by %d", p.srv.Label, n, backend.ErrMismatch, old.want, s))
		}
		p.pending[n] = &expectation{want: s, deadline: deadline, done: make(chan struct{})}
	}
	if !p.running {
		p.running = true
		go p.run()
	} else {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// Wait returns nil once the daemon serves name with serial want. A zone
// handed to Expect with this serial is waited for from the Poller's
// rounds; any other is asked by WaitSerial until deadline.
func (p *Poller) Wait(ctx context.Context, name zone.Name, want uint32, deadline time.Time) error {
	if err, ok := p.Claim(ctx, name, want); ok {
		return err
	}
	return p.srv.WaitSerial(ctx, name, want, deadline)
}

// Claim waits for the outcome of a zone handed to Expect with serial
// want; ok is false, at once, for any other. A failure that is not
// permanent (a mismatch at the deadline, nothing listening) is not
// returned either (ok false): it may be stale by the time it is claimed
// (the daemon restarted since), so the caller asks the daemon once more.
func (p *Poller) Claim(ctx context.Context, name zone.Name, want uint32) (err error, ok bool) {
	p.mu.Lock()
	e := p.pending[name]
	p.mu.Unlock()
	if e == nil || e.want != want {
		return nil, false
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return fmt.Errorf("%s: verify %s: %w", p.srv.Label, name, ctx.Err()), true
	}
	p.mu.Lock()
	if p.pending[name] == e {
		delete(p.pending, name)
	}
	p.mu.Unlock()
	if e.err != nil && !errors.Is(e.err, backend.ErrPermanent) {
		return nil, false
	}
	return e.err, true
}

// Pending reports how many zones the Poller still asks about.
func (p *Poller) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.pending {
		if e.finished.IsZero() {
			n++
		}
	}
	return n
}

// round returns the zones still waited for; it ends those past their
// deadline with their last error.
func (p *Poller) round() []zone.Name {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []zone.Name
	for n, e := range p.pending {
		if e.finished.IsZero() {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		p.running = false
	}
	return out
}

// run asks about the pending zones round after round until none is left.
func (p *Poller) run() {
	pause := 10 * time.Millisecond
	conns := make([]*dns.Conn, p.conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for {
		names := p.round()
		if len(names) == 0 {
			return
		}
		p.ask(names, conns)
		select {
		case <-p.kick:
			pause = 10 * time.Millisecond
			continue
		default:
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-p.kick:
			t.Stop()
			pause = 10 * time.Millisecond
			continue
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// ask queries names over the kept connections, conns at a time.
func (p *Poller) ask(names []zone.Name, conns []*dns.Conn) {
	next := make(chan zone.Name)
	var wg sync.WaitGroup
	var refused sync.Once
	for i := range min(len(conns), len(names)) {
		wg.Go(func() {
			for n := range next {
				serial, rcode, err := p.query(&conns[i], n)
				p.settle(n, serial, rcode, err)
				if errors.Is(err, syscall.ECONNREFUSED) {
					refused.Do(func() { p.failAll(err) })
				}
			}
		})
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
}

// query asks for name's SOA on *conn, dialing it when nil; a connection
// that failed is closed and dialed again once.
func (p *Poller) query(conn **dns.Conn, name zone.Name) (uint32, int, error) {
	m := new(dns.Msg)
	m.SetQuestion(name.FQDN(), dns.TypeSOA)
	c := &dns.Client{Timeout: QueryTimeout}
	if p.srv.TCP {
		c.Net = "tcp"
	}
	ctx := context.Background()
	var r *dns.Msg
	var err error
	for attempt := 0; ; attempt++ {
		fresh := *conn == nil
		if fresh {
			if *conn, err = c.DialContext(ctx, p.srv.Addr); err != nil {
				*conn = nil
				return 0, -1, fmt.Errorf("query %s: %w", p.srv.Addr, err)
			}
		}
		r, _, err = c.ExchangeWithConnContext(ctx, m, *conn)
		if err == nil {
			break
		}
		(*conn).Close()
		*conn = nil
		if fresh || attempt > 0 {
			return 0, -1, fmt.Errorf("query %s: %w", p.srv.Addr, err)
		}
	}
	if r.Truncated && !p.srv.TCP {
		c.Net = "tcp"
		if r, _, err = c.ExchangeContext(ctx, m, p.srv.Addr); err != nil {
			return 0, -1, fmt.Errorf("query %s: %w", p.srv.Addr, err)
		}
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return 0, r.Rcode, fmt.Errorf("%s does not serve the zone (%s, aa=%v)", p.srv.Daemon, dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, name.FQDN()) {
			return soa.Serial, r.Rcode, nil
		}
	}
	return 0, r.Rcode, fmt.Errorf("%s answered without the SOA", p.srv.Daemon)
}

// settle records one answer for name: the zone is done when it serves
// its serial, when onServfail refuses it, or when its deadline passed.
func (p *Poller) settle(name zone.Name, serial uint32, rcode int, err error) {
	p.mu.Lock()
	e := p.pending[name]
	if e == nil || !e.finished.IsZero() {
		p.mu.Unlock()
		return
	}
	if err == nil && serial == e.want {
		p.finish(e, nil)
		p.mu.Unlock()
		return
	}
	if err == nil {
		err = fmt.Errorf("%w: %s serves serial %d, applied %d", backend.ErrMismatch, p.srv.Daemon, serial, e.want)
	}
	check := rcode == dns.RcodeServerFailure && !e.checked && p.onServfail != nil
	e.checked = e.checked || check
	p.mu.Unlock()
	if check {
		if cerr := p.onServfail(context.Background(), name); cerr != nil {
			p.mu.Lock()
			if p.pending[name] == e && e.finished.IsZero() {
				p.finish(e, cerr)
			}
			p.mu.Unlock()
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending[name] == e && e.finished.IsZero() && !time.Now().Before(e.deadline) {
		p.finish(e, fmt.Errorf("%s: verify %s: %w", p.srv.Label, name, err))
	}
}

// failAll ends every pending zone with err: nothing listens at the
// daemon's address, and waiting does not help.
func (p *Poller) failAll(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, e := range p.pending {
		if e.finished.IsZero() {
			p.finish(e, fmt.Errorf("%s: verify %s: %w", p.srv.Label, n, err))
		}
	}
}

// finish ends e's wait with err; p.mu is held.
func (p *Poller) finish(e *expectation, err error) {
	e.err = err
	e.finished = time.Now()
	close(e.done)
}

// ExpectApplied hands the Poller the zones of an Apply that returned err:
// every zone but those err names (a backend.ZoneError each), nothing when
// err failed the batch as a whole.
func (p *Poller) ExpectApplied(zones []*zone.Zone, err error, deadline time.Time) {
	failed, rest := backend.PerZone(err)
	if rest != nil {
		return
	}
	want := make(map[zone.Name]uint32, len(zones))
	for _, z := range zones {
		if failed[z.Name] == nil {
			want[z.Name] = z.Serial
		}
	}
	p.Expect(want, deadline)
}
