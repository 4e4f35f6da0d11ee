package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// probeWorkers is how many SOA queries are in flight while waiting for
// zones to be served: enough to sweep thousands of zones in milliseconds,
// few enough not to steal the server's CPU.
const probeWorkers = 4

// probeTimeout bounds one probe query.
const probeTimeout = 300 * time.Millisecond

// soaQuery is the question for zone's SOA, recursion not desired.
func soaQuery(zone string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	m.RecursionDesired = false
	return m
}

// serialOf reads the SOA serial of an authoritative answer; an error when
// the server does not answer it authoritatively (yet).
func serialOf(r *dns.Msg, zone string, err error) (uint32, error) {
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return 0, fmt.Errorf("soa %s: %s", zone, dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("soa %s: no soa in answer", zone)
}

// udpProber asks one server for SOA serials over one UDP socket, kept
// between questions (dialled again after an error): polling every
// millisecond, a socket per question would take the CPU the servers
// measured need. Replies to earlier, timed-out questions are skipped by
// their ID.
type udpProber struct {
	addr string
	c    *dns.Client
	mu   sync.Mutex
	conn *dns.Conn
}

func newUDPProber(addr string) *udpProber {
	return &udpProber{addr: addr, c: &dns.Client{Net: "udp", Timeout: probeTimeout}}
}

// serial returns the SOA serial addr serves for zone.
func (p *udpProber) serial(ctx context.Context, zone string) (uint32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		conn, err := p.c.DialContext(ctx, p.addr)
		if err != nil {
			return 0, err
		}
		p.conn = conn
	}
	r, _, err := p.c.ExchangeWithConnContext(ctx, soaQuery(zone), p.conn)
	if err != nil {
		_ = p.conn.Close()
		p.conn = nil
	}
	return serialOf(r, zone, err)
}

// close releases the socket.
func (p *udpProber) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		_ = p.conn.Close()
		p.conn = nil
	}
}

// probe is p as a servedProbe named name.
func (p *udpProber) probe(name string) servedProbe {
	return servedProbe{name: name, serial: p.serial}
}

// awaitServed waits until addr serves every zone whose index arrives on
// ready with the zone's own serial, and returns when each was first seen.
// It ends when ready is closed and all were seen, when ctx ends, or when
// alive reports the server gone.
func awaitServed(ctx context.Context, addr string, zones []*benchZone, ready <-chan int, alive func() error) (map[int]time.Time, error) {
	seen := make(map[int]time.Time, len(zones))
	var pending []int
	for open := true; open || len(pending) > 0; {
		var err error
		if pending, open, err = collect(ctx, ready, pending, open); err != nil {
			return seen, fmt.Errorf("dadnsbench: %d zones not served: %w", len(pending), err)
		}
		pending = sweep(ctx, addr, zones, pending, seen)
		if err := alive(); err != nil {
			return seen, err
		}
		if len(pending) > 0 {
			if err := pause(ctx, 5*time.Millisecond); err != nil {
				return seen, fmt.Errorf("dadnsbench: %d zones not served: %w", len(pending), err)
			}
		}
	}
	return seen, nil
}

// collect adds the indices waiting on ready to pending, blocking only
// when there is nothing else to do. It reports whether ready is still open.
func collect(ctx context.Context, ready <-chan int, pending []int, open bool) ([]int, bool, error) {
	for open {
		var i int
		var ok bool
		if len(pending) > 0 {
			select {
			case i, ok = <-ready:
			default:
				return pending, true, nil
			}
		} else {
			select {
			case i, ok = <-ready:
			case <-ctx.Done():
				return pending, true, ctx.Err()
			}
		}
		if !ok {
			return pending, false, nil
		}
		pending = append(pending, i)
	}
	return pending, false, nil
}

// sweep probes every pending zone once and returns those not served yet.
func sweep(ctx context.Context, addr string, zones []*benchZone, pending []int, seen map[int]time.Time) []int {
	var mu sync.Mutex
	var left []int
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(probeWorkers, len(pending)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newUDPProber(addr)
			defer p.close()
			for i := range work {
				serial, err := p.serial(ctx, zones[i].name)
				now := time.Now()
				mu.Lock()
				if err == nil && serial == zones[i].serial {
					seen[i] = now
				} else {
					left = append(left, i)
				}
				mu.Unlock()
			}
		}()
	}
	for _, i := range pending {
		work <- i
	}
	close(work)
	wg.Wait()
	return left
}

// allIndices returns a closed channel holding 0..n-1: every zone is
// expected at once (a daemon loading zone files).
func allIndices(n int) <-chan int {
	ch := make(chan int, n)
	for i := range n {
		ch <- i
	}
	close(ch)
	return ch
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
