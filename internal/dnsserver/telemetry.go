package dnsserver

import (
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The query paths call one hook per answer sent: udpLoop.observe (the
// batched UDP loop, fast and slow answers alike) and Server.observeTCP
// (miekg/dns's TCP server, just before the write). Both feed the per-zone counts (zonestats.go)
// and the dnstap output (dnstap.go); with both off they cost a nil check.

// loopObserver is the UDP loop's scratch space for the hook.
type loopObserver struct {
	init  bool
	local netip.AddrPort // the socket's address
	v6    bool
	name  []byte
}

// observe records the answer out, sent to packet m that arrived at qtime.
func (l *udpLoop) observe(m *ipv4.Message, out []byte, qtime time.Time, info *replyInfo) {
	s := l.s
	if s.zstats == nil && s.tap == nil {
		return
	}
	o := &l.obs
	if info.counter != nil {
		info.counter.add(out)
	} else {
		o.name = s.zstats.count(out, o.name)
	}
	l.tapUDP(m, out, qtime)
}

// observeDropped records a query that rate limiting left unanswered: dnstap
// gets its AUTH_QUERY message and no response (the per-zone counts count
// answers only).
func (l *udpLoop) observeDropped(m *ipv4.Message, qtime time.Time) {
	l.tapUDP(m, nil, qtime)
}

// tapUDP sends packet m and its reply out (nil: none was sent) to dnstap.
func (l *udpLoop) tapUDP(m *ipv4.Message, out []byte, qtime time.Time) {
	s := l.s
	if s.tap == nil {
		return
	}
	o := &l.obs
	if !o.init {
		o.init = true
		o.local = unmapped(addrPort(l.pc.LocalAddr()))
		o.v6 = o.local.Addr().Is6()
	}
	srv := o.local
	if l.wildcard {
		srv = netip.AddrPortFrom(netip.Addr{}, o.local.Port())
		if dst, ok := pktDst(m.OOB[:m.NN], o.v6); ok {
			srv = netip.AddrPortFrom(dst, o.local.Port())
		}
	}
	s.tap.send(false, unmapped(addrPort(m.Addr)), srv, qtime, m.Buffers[0][:m.N], out)
}

// pktDst reads a packet's destination from its pktinfo control message.
func pktDst(oob []byte, v6 bool) (netip.Addr, bool) {
	var ip net.IP
	if v6 {
		var cm ipv6.ControlMessage
		if cm.Parse(oob) != nil {
			return netip.Addr{}, false
		}
		ip = cm.Dst
	} else {
		var cm ipv4.ControlMessage
		if cm.Parse(oob) != nil {
			return netip.Addr{}, false
		}
		ip = cm.Dst
	}
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}

// tapNow is the arrival time of a TCP query when dnstap is on.
func (s *Server) tapNow() time.Time {
	if s.tap == nil {
		return time.Time{}
	}
	return time.Now()
}

// observeMsg records the answer out to r (over TCP but in tests). The query is packed
// again for dnstap (miekg/dns does not keep the bytes read): same
// content, possibly other name compression.
func (s *Server) observeMsg(w dns.ResponseWriter, r *dns.Msg, out []byte, qtime time.Time, tcp bool) {
	if s.zstats != nil {
		var scratch [256]byte
		s.zstats.count(out, scratch[:0])
	}
	if s.tap == nil {
		return
	}
	var q []byte
	if s.tap.opt.Queries {
		q, _ = r.Pack()
	}
	s.tap.send(tcp, unmapped(addrPort(w.RemoteAddr())), unmapped(addrPort(w.LocalAddr())), qtime, q, out)
}
