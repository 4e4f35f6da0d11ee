package dnsserver

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// notifier sends NOTIFY (RFC 1996) for changed zones to secondaries, with
// retries, a bounded number in flight and no goroutine while idle: a newer
// change of a zone replaces the pending NOTIFY for it.
type notifier struct {
	x   *xfr
	log *slog.Logger

	mu        sync.Mutex
	jobs      map[notifyKey]*notifyJob
	followups []time.Duration // catalogFollowups when the notifier was made
	running bool
	wake    chan struct{}
	sem     chan struct{}
}

type notifyKey struct{ target, origin string }

type notifyJob struct {
	serial    uint32
	attempt   int
	due       time.Time
	busy      bool // a send is in flight
	again     bool // changed while in flight: send once more
	followups int  // NOTIFYs sent again after an acknowledged one
}

// catalogFollowups are the waits, after an acknowledged NOTIFY of the
// catalog, before it is sent again to a secondary that has not fetched
// that serial since. A secondary can acknowledge a NOTIFY and then drop
// it: BIND 9.18, started before its primary answered, queues the NOTIFYs
// that come while its failed first refresh winds down, then forgets them
// and waits for its retry timer (minutes), so no new zone reaches it.
// Only the catalog is followed up: it is the one zone whose loss hides
// every new zone, while a member zone has its own refresh timer and is
// fetched anyway when the catalog adds it.
var catalogFollowups = []time.Duration{2 * time.Second, 6 * time.Second, 20 * time.Second, 60 * time.Second}

// notifyTimeout is how long one NOTIFY waits for its answer.
const notifyTimeout = 2 * time.Second

// notifyInFlight bounds concurrent NOTIFYs.
const notifyInFlight = 16

func newNotifier(x *xfr, log *slog.Logger) *notifier {
	return &notifier{x: x, log: log, jobs: map[notifyKey]*notifyJob{}, followups: catalogFollowups,
		wake: make(chan struct{}, 1), sem: make(chan struct{}, notifyInFlight)}
}

// enqueue schedules a NOTIFY of origin at serial to each target now.
func (n *notifier) enqueue(origin string, serial uint32, targets []string) {
	if len(targets) == 0 {
		return
	}
	now := time.Now()
	n.mu.Lock()
	for _, t := range targets {
		k := notifyKey{t, origin}
		j, ok := n.jobs[k]
		if !ok {
			n.jobs[k] = &notifyJob{serial: serial, due: now}
			continue
		}
		j.serial, j.attempt, j.due, j.followups = serial, 0, now, 0
		if j.busy {
			j.again = true
		}
	}
	start := !n.running
	n.running = true
	n.mu.Unlock()
	if start {
		go n.pump()
	}
	n.poke()
}

func (n *notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// pump starts the sends that are due until no job is left.
func (n *notifier) pump() {
	for {
		n.mu.Lock()
		if len(n.jobs) == 0 {
			n.running = false
			n.mu.Unlock()
			return
		}
		now := time.Now()
		var due []notifyKey
		next := now.Add(time.Second)
		for k, j := range n.jobs {
			switch {
			case j.busy:
			case !j.due.After(now):
				j.busy = true
				due = append(due, k)
			case j.due.Before(next):
				next = j.due
			}
		}
		n.mu.Unlock()
		for _, k := range due {
			n.sem <- struct{}{}
			go func() {
				defer func() { <-n.sem }()
				n.send(k)
			}()
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-n.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// send sends one NOTIFY and reschedules or retires the job.
func (n *notifier) send(k notifyKey) {
	n.mu.Lock()
	serial := n.jobs[k].serial
	n.mu.Unlock()

	m := new(dns.Msg)
	m.SetNotify(k.origin)
	m.Authoritative = true
	m.Answer = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: k.origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Serial: serial,
		Ns: ".", Mbox: "."}}
	c := &dns.Client{Net: "udp", Timeout: notifyTimeout}
	if key := n.x.opt.NotifyKey; key != "" {
		if k, ok := n.x.opt.TSIG[key]; ok {
			m.SetTsig(key, k.Algorithm, 300, time.Now().Unix())
			c.TsigSecret = map[string]string{key: k.Secret}
		}
	}
	n.x.stats.notifies[0].Add(1)
	r, _, err := c.Exchange(m, k.target)
	ok := err == nil && r != nil && r.Rcode == dns.RcodeSuccess && r.Opcode == dns.OpcodeNotify

	n.mu.Lock()
	defer n.mu.Unlock()
	defer n.poke()
	j := n.jobs[k]
	j.busy = false
	switch {
	case j.again:
		j.again, j.attempt, j.due = false, 0, time.Now()
	case ok:
		n.x.stats.notifies[1].Add(1)
		if !n.x.isCatalog(k.origin) || j.followups >= len(n.followups) {
			delete(n.jobs, k)
			break
		}
		j.attempt, j.due = 0, time.Now().Add(n.followups[j.followups])
		j.followups++
	case j.attempt >= n.x.opt.NotifyRetries:
		n.x.stats.notifies[2].Add(1)
		delete(n.jobs, k)
		why := "no answer"
		if err != nil {
			why = err.Error()
		} else if r != nil {
			why = dns.RcodeToString[r.Rcode]
		}
		n.log.Warn("NOTIFY not acknowledged", "target", k.target, "zone", k.origin, "serial", serial, "attempts", j.attempt+1, "reason", why)
	default:
		j.due = time.Now().Add(time.Second << j.attempt)
		j.attempt++
	}
}

// fetched retires the follow-ups of origin's NOTIFYs to the targets at
// addr once that client transferred serial (or a newer one).
func (n *notifier) fetched(addr netip.Addr, origin string, serial uint32) {
	if !n.x.isCatalog(origin) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, t := range n.x.opt.Notify {
		ap, err := netip.ParseAddrPort(t)
		if err != nil || ap.Addr().Unmap() != addr.Unmap() {
			continue
		}
		k := notifyKey{t, origin}
		j := n.jobs[k]
		switch {
		case j == nil || j.followups == 0 || serialNewer(j.serial, serial):
		case j.busy:
			j.followups = len(n.followups) // this send is the last
		default:
			delete(n.jobs, k)
		}
	}
}

// notifyTargets are the secondaries to tell about zone z.
func (x *xfr) notifyTargets(z *Zone) []string {
	out := append([]string(nil), x.opt.Notify...)
	if !x.opt.NotifyNS {
		return out
	}
	origin := canonicalOrigin(z.Origin)
	hosts := map[string]bool{}
	for _, rr := range z.RRs {
		if ns, ok := rr.(*dns.NS); ok && canon(ns.Hdr.Name) == origin {
			hosts[canon(ns.Ns)] = true
		}
	}
	for _, rr := range z.RRs {
		if !hosts[canon(rr.Header().Name)] {
			continue
		}
		switch a := rr.(type) {
		case *dns.A:
			out = append(out, net.JoinHostPort(a.A.String(), "53"))
		case *dns.AAAA:
			out = append(out, net.JoinHostPort(a.AAAA.String(), "53"))
		}
	}
	return out
}
