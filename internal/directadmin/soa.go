package directadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// The ways a DNS answer about a zone's serial is not usable. Each is a
// reason to read the zone's text over HTTP instead, never to trust it.
var (
	// ErrNotAuthoritative: the answer lacks the AA bit (a cache, a
	// forwarder or a server that does not load the zone answered).
	ErrNotAuthoritative = errors.New("answer not authoritative")
	// ErrDNSAnswer: a non-NOERROR rcode (REFUSED, SERVFAIL, NXDOMAIN), no
	// SOA for the zone, or an answer to another question.
	ErrDNSAnswer = errors.New("unusable DNS answer")
	// ErrDNSGaveUp: the DNS server stopped answering altogether (only
	// timeouts and network errors), so the remaining zones were not asked.
	ErrDNSGaveUp = errors.New("DNS server not answering; remaining zones not asked")
)

// SOAOptions configure SOASerials.
type SOAOptions struct {
	// Address is the DNS server, host:port. A host name is resolved once.
	Address string
	// Timeout bounds one try of one question (default 2 s).
	Timeout time.Duration
	// Tries is the number of UDP tries per zone (default 2).
	Tries int
	// Parallel bounds the questions in flight (default 64).
	Parallel int
	// GiveUpAfter is the number of timeouts and network errors in a row
	// (no answer of any kind between them) after which the server is
	// taken as down for the rest of the batch (default Parallel, at least 8).
	GiveUpAfter int
}

// SOAResult is the outcome for one zone: its serial, or why there is none.
type SOAResult struct {
	Serial uint32
	Err    error
}

// SOAStats counts the questions of one batch.
type SOAStats struct {
	UDP, TCP int // questions sent per transport (UDP retries included)
	Answered int // zones with a usable serial
	Failed   int // zones without one (Err set)
	GaveUp   bool
}

// SOASerials asks the DNS server at opt.Address for the SOA serial of
// each zone in names (UDP with many questions in flight, TCP when an answer
// is truncated) and returns the results in the order of names. Only an
// authoritative NOERROR answer holding exactly one SOA record owned by the
// zone counts; anything else is an error for that zone. It never fails as
// a whole: an unreachable server makes every result an error.
func SOASerials(ctx context.Context, opt SOAOptions, names []string) ([]SOAResult, SOAStats) {
	opt = soaDefaults(opt)
	out := make([]SOAResult, len(names))
	var st soaCounters
	addr, err := resolveOnce(ctx, opt.Address, opt.Timeout)
	if err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out, SOAStats{Failed: len(names), GaveUp: true}
	}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(opt.Parallel, len(names)) {
		wg.Go(func() {
			w := soaWorker{opt: opt, addr: addr, st: &st}
			defer w.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(names) {
					return
				}
				out[i] = w.ask(ctx, names[i])
			}
		})
	}
	wg.Wait()
	stats := SOAStats{UDP: int(st.udp.Load()), TCP: int(st.tcp.Load()), GaveUp: st.gaveUp.Load()}
	for _, r := range out {
		if r.Err == nil {
			stats.Answered++
		} else {
			stats.Failed++
		}
	}
	return out, stats
}

func soaDefaults(opt SOAOptions) SOAOptions {
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Second
	}
	if opt.Tries <= 0 {
		opt.Tries = 2
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 64
	}
	if opt.GiveUpAfter <= 0 {
		opt.GiveUpAfter = max(opt.Parallel, 8)
	}
	return opt
}

// resolveOnce turns host:port into ip:port, so a batch of 100,000
// questions costs one name lookup.
func resolveOnce(ctx context.Context, address string, timeout time.Duration) (string, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return "", fmt.Errorf("dns address %q: %w", address, err)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return address, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("dns address %q: cannot resolve %s: %v", address, host, err)
	}
	return net.JoinHostPort(ips[0].Unmap().String(), port), nil
}

// soaCounters are shared by a batch's workers.
type soaCounters struct {
	udp, tcp  atomic.Int64
	unreached atomic.Int64 // timeouts and network errors in a row
	gaveUp    atomic.Bool
}

// soaWorker asks one question at a time over its own UDP socket.
type soaWorker struct {
	opt  SOAOptions
	addr string
	st   *soaCounters
	conn *dns.Conn
}

func (w *soaWorker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// ask finds one zone's serial.
func (w *soaWorker) ask(ctx context.Context, name string) SOAResult {
	if err := ctx.Err(); err != nil {
		return SOAResult{Err: err}
	}
	if w.st.gaveUp.Load() {
		return SOAResult{Err: ErrDNSGaveUp}
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
	q.RecursionDesired = false
	q.SetEdns0(1232, false)
	r, err := w.udp(ctx, q)
	if err == nil && r.Truncated {
		r, err = w.tcp(ctx, q)
	}
	if err != nil {
		if w.st.unreached.Add(1) >= int64(w.opt.GiveUpAfter) {
			w.st.gaveUp.Store(true)
		}
		return SOAResult{Err: fmt.Errorf("soa %s at %s: %w", name, w.addr, err)}
	}
	w.st.unreached.Store(0) // the server answers, whatever it said
	serial, err := SerialFromAnswer(r, name)
	if err != nil {
		return SOAResult{Err: fmt.Errorf("soa %s at %s: %w", name, w.addr, err)}
	}
	return SOAResult{Serial: serial}
}

// udp sends q up to Tries times over the worker's socket.
func (w *soaWorker) udp(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: w.opt.Timeout}
	var err error
	for range w.opt.Tries {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if w.conn == nil {
			if w.conn, err = c.DialContext(ctx, w.addr); err != nil {
				w.conn = nil
				continue
			}
		}
		q.Id = dns.Id()
		w.st.udp.Add(1)
		var r *dns.Msg
		r, _, err = c.ExchangeWithConnContext(ctx, q, w.conn)
		if err == nil {
			return r, nil
		}
		w.close() // a fresh socket for the next try: no late answer mixes in
	}
	return nil, err
}

// tcp asks q once over a new TCP connection (after a truncated answer).
func (w *soaWorker) tcp(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: "tcp", Timeout: w.opt.Timeout}
	q.Id = dns.Id()
	w.st.tcp.Add(1)
	r, _, err := c.ExchangeContext(ctx, q, w.addr)
	if err == nil && r.Truncated {
		return nil, fmt.Errorf("%w: truncated over TCP", ErrDNSAnswer)
	}
	return r, err
}

// SerialFromAnswer returns the serial an answer gives for zone's SOA, or
// why the answer is not usable: it must answer that very question, with
// NOERROR, the AA bit, and exactly one SOA record owned by the zone.
func SerialFromAnswer(r *dns.Msg, zone string) (uint32, error) {
	fqdn := dns.Fqdn(zone)
	if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, fqdn) || r.Question[0].Qtype != dns.TypeSOA {
		return 0, fmt.Errorf("%w: the answer is to another question", ErrDNSAnswer)
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, fmt.Errorf("%w: %s", ErrDNSAnswer, dns.RcodeToString[r.Rcode])
	}
	if !r.Authoritative {
		return 0, ErrNotAuthoritative
	}
	var soa *dns.SOA
	for _, rr := range r.Answer {
		s, ok := rr.(*dns.SOA)
		if !ok || !strings.EqualFold(s.Hdr.Name, fqdn) {
			continue
		}
		if soa != nil {
			return 0, fmt.Errorf("%w: more than one SOA", ErrDNSAnswer)
		}
		soa = s
	}
	if soa == nil {
		return 0, fmt.Errorf("%w: no SOA record in the answer", ErrDNSAnswer)
	}
	return soa.Serial, nil
}
