package dnsserver

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Address sockets. A UDP socket bound to a wildcard address (0.0.0.0,
// [::]) has to ask the kernel for every packet's destination
// (IP_PKTINFO) and pass it back with every reply, which costs on each
// packet. So beside a wildcard listener the server also binds the port on
// each address the host has, the way BIND scans its interfaces: the
// kernel hands a packet to the socket bound to its destination address
// when there is one, and those packets are answered without control
// messages. The wildcard sockets stay: they take what no address socket
// does (an address added since the last scan, the rest of 127.0.0.0/8,
// an address that failed to bind), so no question depends on the scan.
// The addresses are listed again every addrScanInterval; sockets of
// addresses gone are closed.
//
// A 0.0.0.0 listener gets sockets on the IPv4 addresses, a [::] one on
// the IPv6 and IPv4 addresses (a Go wildcard socket is dual-stack). IPv6
// link-local addresses are left to the wildcard sockets (they need a
// scope). Each address gets UDPSockets sockets, like the wildcard, so
// its questions spread over every core; at most addrMax addresses get
// them, public ones first, then private ones, loopback last, and the
// others are answered by the wildcard sockets.
const (
	addrScanInterval = 30 * time.Second
	addrMax          = 16
)

// addrSockets keeps the address sockets of one wildcard listener.
type addrSockets struct {
	s    *Server
	port int
	v6   bool // the listener is [::]: IPv6 addresses too
	per  int  // sockets per address, at most
	list func() ([]netip.Addr, error)

	mu      sync.Mutex
	bound   map[netip.Addr]*udpLoops
	failed  map[netip.Addr]string // the last bind error, logged once
	listErr string                // the last listing error, logged once
	closed  bool

	stopc chan struct{}
	done  chan struct{}
}

// hostAddrs lists the host's unicast addresses.
func hostAddrs() ([]netip.Addr, error) {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range as {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip, ok := netip.AddrFromSlice(n.IP); ok {
			out = append(out, ip.Unmap())
		}
	}
	return out, nil
}

// startAddrSockets binds the address sockets beside the wildcard
// listener on port and rescans until stop.
func (s *Server) startAddrSockets(port int, v6 bool) *addrSockets {
	list := s.hostAddrs
	if list == nil {
		list = hostAddrs
	}
	a := &addrSockets{s: s, port: port, v6: v6, per: s.opt.UDPSockets, list: list,
		bound: map[netip.Addr]*udpLoops{}, failed: map[netip.Addr]string{},
		stopc: make(chan struct{}), done: make(chan struct{})}
	a.scan()
	go a.run()
	return a
}

func (a *addrSockets) run() {
	defer close(a.done)
	t := time.NewTicker(addrScanInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stopc:
			return
		case <-t.C:
			a.scan()
		}
	}
}

// wanted returns the addresses to bind, in order of preference.
func (a *addrSockets) wanted(all []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, ip := range all {
		switch {
		case !ip.IsValid(), ip.IsUnspecified(), ip.IsMulticast(),
			ip.Is6() && (ip.IsLinkLocalUnicast() || !a.v6):
			continue
		}
		out = append(out, ip.WithZone(""))
	}
	slices.SortFunc(out, func(x, y netip.Addr) int {
		if c := addrRank(x) - addrRank(y); c != 0 {
			return c
		}
		return x.Compare(y)
	})
	out = slices.Compact(out)
	if len(out) > addrMax {
		out = out[:addrMax]
	}
	return out
}

// addrRank orders addresses for the addrMax that get sockets: public,
// private (RFC 1918, ULA, link-local IPv4), loopback.
func addrRank(ip netip.Addr) int {
	switch {
	case ip.IsLoopback():
		return 2
	case ip.IsPrivate(), ip.IsLinkLocalUnicast():
		return 1
	}
	return 0
}

// scan binds the addresses the host has gained and closes the sockets of
// those it lost.
func (a *addrSockets) scan() {
	all, err := a.list()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if err != nil {
		// The wildcard sockets answer everything meanwhile; said once.
		if msg := err.Error(); msg != a.listErr {
			a.listErr = msg
			a.s.log.Warn("dnsserver: cannot list the host's addresses, the wildcard sockets answer them all", "err", err)
		}
		return
	}
	a.listErr = ""
	want := a.wanted(all)
	for ip, ls := range a.bound {
		if !slices.Contains(want, ip) {
			ls.stop()
			delete(a.bound, ip)
			a.s.log.Info("dnsserver: address gone, its UDP sockets closed", "addr", ip, "port", a.port)
		}
	}
	for ip := range a.failed {
		if !slices.Contains(want, ip) {
			delete(a.failed, ip)
		}
	}
	var added []netip.Addr
	defer func() {
		if len(added) > 0 {
			a.s.log.Info("dnsserver: UDP port also bound on the host's addresses", "port", a.port, "addrs", added)
		}
	}()
	for _, ip := range want {
		if a.bound[ip] != nil {
			continue
		}
		ls, err := a.bind(ip, a.per)
		if err != nil {
			// The wildcard sockets answer this address meanwhile.
			if msg := err.Error(); a.failed[ip] != msg {
				a.failed[ip] = msg
				a.s.log.Warn("dnsserver: address socket not bound, the wildcard socket answers it", "addr", ip, "port", a.port, "err", err)
			}
			continue
		}
		delete(a.failed, ip)
		a.bound[ip] = ls
		added = append(added, ip)
	}
}

func (a *addrSockets) bind(ip netip.Addr, per int) (*udpLoops, error) {
	pcs, err := listenUDP(netip.AddrPortFrom(ip, uint16(a.port)).String(), per, true)
	if err != nil {
		return nil, err
	}
	ls, err := a.s.startUDPLoops(pcs, false)
	if err != nil {
		closeAll(pcs)
		return nil, err
	}
	return ls, nil
}

// addrs returns the addresses with sockets, in order.
func (a *addrSockets) addrs() []netip.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]netip.Addr, 0, len(a.bound))
	for ip := range a.bound {
		out = append(out, ip)
	}
	slices.SortFunc(out, func(x, y netip.Addr) int { return x.Compare(y) })
	return out
}

// stop closes every address socket and ends the rescans; stopping twice
// is harmless.
func (a *addrSockets) stop() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	close(a.stopc)
	bound := a.bound
	a.bound = nil
	a.mu.Unlock()
	<-a.done
	for _, ls := range bound {
		ls.stop()
	}
}
