package dnsserver

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// TCP is bounded whatever arrives (the listener below sits under
// miekg/dns's TCP server):
//
//   - at most TCPMaxConns connections at once, and at most
//     TCPMaxConnsPerPrefix from one client prefix (/24 IPv4, /56 IPv6);
//     a connection over either cap is closed as soon as it is accepted;
//   - a connection that sends no first query within TCPReadTimeout (2 s)
//     or no next one within TCPIdleTimeout (8 s) is closed, and no read
//     waits longer than TCPBusyIdleTimeout (500 ms) once more than half
//     of TCPMaxConns are open (as NSD does), so idle clients cannot hold
//     the table;
//   - every write has a deadline (TCPWriteTimeout, 10 s; tcpWriteTimeout);
//   - when accept fails for lack of descriptors or memory (EMFILE,
//     ENFILE, ENOBUFS, ENOMEM) the listener waits, doubling from 5 ms up
//     to 1 s, instead of retrying at once (which spins a core);
//   - queries on one connection are answered one after the other, and a
//     connection is closed after TCPMaxQueries (128, miekg/dns's
//     default) of them, so one client has at most one query in flight per
//     connection.
//
// Options documents each knob; the config keys are the builtin's tcp
// section.
const (
	defaultTCPMaxConns          = 1000
	defaultTCPMaxConnsPerPrefix = 100
	defaultTCPBusyIdle          = 500 * time.Millisecond
	defaultTCPReadTimeout       = 2 * time.Second // miekg/dns's default
	defaultTCPIdleTimeout       = 8 * time.Second // miekg/dns's default
	defaultTCPMaxQueries        = 128             // miekg/dns's default
	defaultTCPWriteTimeout      = 10 * time.Second
)

// tcpLimits is the connection table of one Listen call.
type tcpLimits struct {
	max, perPrefix int
	writeTimeout   time.Duration
	busyIdle       time.Duration

	mu       sync.Mutex
	open     int
	byPrefix map[netip.Prefix]int
}

// limitListener applies tcpLimits to what it accepts.
type limitListener struct {
	net.Listener
	lim *tcpLimits
	// sleep is time.Sleep, replaced in tests.
	sleep func(time.Duration)
}

func newLimitListener(l net.Listener, max, perPrefix int, writeTimeout time.Duration) *limitListener {
	return &limitListener{
		Listener: l,
		lim:      &tcpLimits{max: max, perPrefix: perPrefix, writeTimeout: writeTimeout, busyIdle: defaultTCPBusyIdle, byPrefix: map[netip.Prefix]int{}},
		sleep:    time.Sleep,
	}
}

// Accept returns the next connection within the caps. It does not return
// resource errors: it backs off and tries again until the listener is
// closed.
func (l *limitListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !retryAccept(err) {
				return nil, err
			}
			if errors.Is(err, syscall.ECONNABORTED) {
				continue // that client is gone; the next one may be fine
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.sleep(delay)
			continue
		}
		delay = 0
		if tc := l.lim.admit(c); tc != nil {
			return tc, nil
		}
		_ = c.Close()
	}
}

// retryAccept reports the accept errors that pass: out of descriptors or
// buffers, or a connection reset before it was accepted.
func retryAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// prefixOf is the client prefix a connection counts against.
func prefixOf(a net.Addr, v4bits, v6bits int) netip.Prefix {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	}
	ip = ip.Unmap()
	bits := v6bits
	if ip.Is4() {
		bits = v4bits
	}
	p, _ := ip.Prefix(bits)
	return p
}

// admit counts c in, or returns nil when a cap is reached.
func (t *tcpLimits) admit(c net.Conn) *limitConn {
	p := prefixOf(c.RemoteAddr(), 24, 56)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open >= t.max || t.byPrefix[p] >= t.perPrefix {
		return nil
	}
	t.open++
	t.byPrefix[p]++
	return &limitConn{Conn: c, lim: t, prefix: p}
}

func (t *tcpLimits) release(p netip.Prefix) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open--
	if t.byPrefix[p]--; t.byPrefix[p] <= 0 {
		delete(t.byPrefix, p)
	}
}

// busy reports a table more than half full.
func (t *tcpLimits) busy() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open > t.max/2
}

// count is the number of connections open.
func (t *tcpLimits) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open
}

// limitConn is one admitted connection: every write has a deadline, read
// deadlines shrink while the table is busy, and Close frees its slot.
type limitConn struct {
	net.Conn
	lim    *tcpLimits
	prefix netip.Prefix
	once   sync.Once
}

func (c *limitConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.lim.writeTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// SetReadDeadline is how miekg/dns applies its read and idle timeouts;
// while the table is busy no read waits longer than busyIdle.
func (c *limitConn) SetReadDeadline(t time.Time) error {
	if c.lim.busy() {
		if short := time.Now().Add(c.lim.busyIdle); t.IsZero() || t.After(short) {
			t = short
		}
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *limitConn) Close() error {
	c.once.Do(func() { c.lim.release(c.prefix) })
	return c.Conn.Close()
}
