package dnsserver

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// UDP is served by our own loops on every address: recvmmsg and sendmmsg
// move up to udpBatch packets per system call, and cached answers skip
// dns.Msg entirely (fastpath.go). One loop (one goroutine) runs per
// socket, whatever arrives: there is no goroutine per packet. On a
// wildcard address each packet's destination is read from its
// IP_PKTINFO / IPV6_PKTINFO control message and the reply is sent from
// that address (pktinfo.go).
const (
	udpBatch = 32
	udpRead  = 4096 // larger queries are dropped
)

// batchConn is the recvmmsg/sendmmsg side of an ipv4 or ipv6 PacketConn.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchConn wraps pc; with wildcard set it also asks the kernel for
// each packet's destination address. On Linux the batches are our own
// system calls (mmsg_linux.go), elsewhere x/net's.
func newBatchConn(pc net.PacketConn, wildcard bool) (batchConn, error) {
	var c batchConn
	if a, ok := pc.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		c6 := ipv6.NewPacketConn(pc)
		if wildcard {
			if err := c6.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
				return nil, err
			}
		}
		c = c6
	} else {
		c4 := ipv4.NewPacketConn(pc)
		if wildcard {
			if err := c4.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
				return nil, err
			}
		}
		c = c4
	}
	// x/net set the options above; on Linux our own batches read.
	if bc, ok := platformBatchConn(pc); ok {
		return bc, nil
	}
	return c, nil
}

// udpLoop serves one UDP socket until it is closed.
type udpLoop struct {
	s      *Server
	pc     net.PacketConn
	conn   batchConn
	rx, tx []ipv4.Message
	out    [][]byte
	key    []byte
	// scratch space for RRL
	qname, zone, scratch []byte
	// wildcard: rx carry control messages, and tx the source to use.
	wildcard bool
	oob      [][]byte
	obs      loopObserver // telemetry.go
	rcodes   *rcodeCounts // this loop's own (counts.go)
	// prep[i] is packet i's fast-path lookup (ok[i]: it has one), made
	// for the whole batch before any answer; sink keeps prefetch's loads.
	prep []fastLookup
	ok   []bool
	sink uint64
	info replyInfo // the current packet's
	// packets counts the packets read (tests see which socket took them).
	packets atomic.Uint64
}

func newUDPLoop(s *Server, pc net.PacketConn, wildcard bool) (*udpLoop, error) {
	conn, err := newBatchConn(pc, wildcard)
	if err != nil {
		return nil, err
	}
	l := newLoopBuffers(s, wildcard)
	l.pc, l.conn = pc, conn
	return l, nil
}

// newLoopBuffers makes a loop's buffers and scratch space, without its
// socket.
func newLoopBuffers(s *Server, wildcard bool) *udpLoop {
	l := &udpLoop{s: s, key: make([]byte, 0, 260), wildcard: wildcard, rcodes: s.loopRcodes.add()}
	l.rx = make([]ipv4.Message, udpBatch)
	l.tx = make([]ipv4.Message, udpBatch)
	l.out = make([][]byte, udpBatch)
	l.prep = make([]fastLookup, udpBatch)
	l.ok = make([]bool, udpBatch)
	if wildcard {
		l.oob = make([][]byte, udpBatch)
	}
	for i := range l.rx {
		l.rx[i].Buffers = [][]byte{make([]byte, udpRead)}
		l.tx[i].Buffers = make([][]byte, 1)
		l.out[i] = make([]byte, 0, 1024)
		l.prep[i].key = make([]byte, 0, 260)
		if wildcard {
			l.rx[i].OOB = make([]byte, oobSize)
			l.oob[i] = make([]byte, oobSize)
		}
	}
	return l
}

// serve reads batches, answers them and writes the answers back.
func (l *udpLoop) serve() {
	for {
		if l.wildcard {
			for i := range l.rx {
				l.rx[i].OOB = l.rx[i].OOB[:cap(l.rx[i].OOB)]
			}
		}
		n, err := l.conn.ReadBatch(l.rx, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.s.log.Warn("udp read", "err", err)
			continue
		}
		l.packets.Add(uint64(n))
		snap := l.s.snap.Load()
		tnow := time.Now()
		now := tnow.Unix()
		l.prefetch(snap, n)
		k := 0
		for i := range n {
			// info lives in the loop: passed down the slow path, a local
			// one would escape, one allocation per packet.
			info := &l.info
			*info = replyInfo{}
			var ck queryCookieInfo
			if l.s.cookies != nil {
				ck = l.s.readCookie(&l.rx[i], now)
			}
			var out []byte
			var ok bool
			if ck.state == cookieMalformed {
				out, ok = formErr(l.rx[i].Buffers[0][:l.rx[i].N], l.out[k])
			} else {
				out, ok = l.answerPrepared(snap, i, l.out[k], info)
			}
			if ok && l.s.rrl != nil && ck.state != cookieValid {
				out, ok = l.limit(now, &l.rx[i], out, info, &ck)
				if !ok {
					l.observeDropped(&l.rx[i], tnow)
				}
			}
			if ok && ck.state != cookieNone && ck.state != cookieMalformed {
				out = l.s.addCookie(out, &ck, uint32(now))
			}
			if ok {
				l.rcodes.count(out)
				l.observe(&l.rx[i], out, tnow, info)
				l.out[k] = out
				l.tx[k].Buffers[0], l.tx[k].Addr = out, l.rx[i].Addr
				if l.wildcard {
					l.tx[k].OOB = replySource(l.oob[k], l.rx[i].OOB[:cap(l.rx[i].OOB)], l.rx[i].NN)
				}
				k++
			}
		}
		l.write(k)
	}
}

// write sends the first k replies of l.tx. A reply the kernel refuses
// (sendmmsg reports the first message of a call that fails) is skipped,
// not the rest of the batch; one warning per batch at most.
func (l *udpLoop) write(k int) {
	warned := false
	for sent := 0; sent < k; {
		n, err := l.conn.WriteBatch(l.tx[sent:k], 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if !warned {
				warned = true
				l.s.log.Warn("udp write", "err", err)
			}
			n = 1
		}
		sent += n
	}
}

// answer builds the reply to one packet; false drops the packet.
func (l *udpLoop) answer(snap *snapshot, m *ipv4.Message, out []byte, info *replyInfo) ([]byte, bool) {
	if m.N == len(m.Buffers[0]) {
		return nil, false // possibly cut short: too big to be a query we take
	}
	pkt := m.Buffers[0][:m.N]
	if out, ok := l.s.fastReplyInfo(snap, pkt, l.key, out, info); ok {
		return out, true
	}
	return l.s.slowReplyInfo(pkt, m.Addr, out, info)
}

// prefetch looks the first n (at most udpBatch) packets of the batch up
// (lookupFast) and loads what their answers will be read from, one level
// at a time for the whole batch: the zone table's slots for each suffix
// of the name, the zone's cache table, the slot the key hashes to, the
// entry it points at, and the zone's query counter. Each level's loads
// do not depend on one another, so their cache misses (with 100,000
// zones, most of them are) overlap instead of following one another
// packet after packet; answering then finds them in the cache. Nothing
// is decided here from the cache: answerPrepared reads it again.
func (l *udpLoop) prefetch(snap *snapshot, n int) {
	s := l.s
	var sink uint64
	for i := range n {
		m := &l.rx[i]
		l.ok[i] = m.N < len(m.Buffers[0]) && s.parseLookup(m.Buffers[0][:m.N], l.prep[i].key[:0], &l.prep[i])
	}
	for i := range n {
		if l.ok[i] {
			sh := &l.prep[i].sh
			for j := range sh.n {
				sink += snap.touch(sh.hs[j])
			}
		}
	}
	for i := range n {
		l.ok[i] = l.ok[i] && s.findLookup(snap, &l.prep[i])
	}
	if s.noHint {
		l.sink += sink
		return
	}
	var tabs, slots [udpBatch]*cacheSlot
	var masks [udpBatch]uint64
	for i := range n {
		if l.ok[i] {
			if tabs[i] = l.prep[i].zs.hint.Load(); tabs[i] != nil {
				masks[i] = tabs[i].hash.Load()
			}
		}
	}
	for i := range n {
		if tabs[i] != nil {
			slots[i] = slotAt(tabs[i], l.prep[i].h&masks[i])
			sink += slots[i].hash.Load()
		}
	}
	counts := s.zstats != nil
	for i := range n {
		if sl := slots[i]; sl != nil && sl.hash.Load() == l.prep[i].h {
			sink += uint64(*sl.data.Load())
		}
		if counts && l.ok[i] {
			if c := l.prep[i].zs.z.counter.Load(); c != nil {
				sink += uint64(uintptr(unsafe.Pointer(c)))
			}
		}
	}
	if counts {
		for i := range n {
			if l.ok[i] {
				if c := l.prep[i].zs.z.counter.Load(); c != nil {
					sink += c.queries.Load()
				}
			}
		}
	}
	l.sink += sink
}

// answerPrepared is answer for packet i of the batch, looked up by
// prefetch.
func (l *udpLoop) answerPrepared(snap *snapshot, i int, out []byte, info *replyInfo) ([]byte, bool) {
	m := &l.rx[i]
	if m.N == len(m.Buffers[0]) {
		return nil, false // possibly cut short: too big to be a query we take
	}
	pkt := m.Buffers[0][:m.N]
	if l.ok[i] {
		if out, ok := l.s.answerFast(&l.prep[i], pkt, out, info); ok {
			return out, true
		}
	}
	return l.s.slowReplyInfo(pkt, m.Addr, out, info)
}

// limit applies RRL to the reply out to packet m: the reply, a truncated
// one (slip), or false to drop it.
func (l *udpLoop) limit(now int64, m *ipv4.Message, out []byte, info *replyInfo, ck *queryCookieInfo) ([]byte, bool) {
	ua, ok := m.Addr.(*net.UDPAddr)
	if !ok || len(out) < 12 {
		return out, true
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return out, true
	}
	ip = ip.Unmap()
	t := l.s.rrl
	pkt := m.Buffers[0][:m.N]
	if t.exempt(ip) {
		return out, true
	}
	qname, off, ok := readName(pkt, 12, l.qname[:0])
	l.qname = qname
	var qtype uint16
	if ok && off+2 <= len(pkt) {
		qtype = uint16(pkt[off])<<8 | uint16(pkt[off+1])
	}
	l.zone = append(l.zone[:0], info.zone...)
	class, name := rrlClass(out, info, qname, l.zone)
	if class != rrlAnswer {
		qtype = 0 // one bucket per zone (or name) for the other classes
	}
	p := t.prefix(ip)
	var key uint64
	key, l.scratch = t.key(p, class, qtype, name, l.scratch)
	act, first := t.check(now, key)
	if first && t.logf != nil {
		t.logf(p, class, info.zone)
	}
	switch act {
	case rrlDrop:
		return nil, false
	case rrlSlip:
		if ck.state == cookieClient {
			return badCookie(pkt, out)
		}
		return slipReply(pkt, out, l.scratch)
	}
	return out, true
}

// slowReply unpacks pkt and answers it like ServeDNS does, rejecting what
// the miekg/dns server rejects with the same replies.
func (s *Server) slowReply(pkt []byte, from net.Addr, out []byte) ([]byte, bool) {
	return s.slowReplyInfo(pkt, from, out, nil)
}

// slowReplyInfo is slowReply that also tells RRL about the reply.
func (s *Server) slowReplyInfo(pkt []byte, from net.Addr, out []byte, info *replyInfo) ([]byte, bool) {
	if len(pkt) < 12 || pkt[2]&0x80 != 0 {
		return nil, false // not a query, or not even a header
	}
	r := new(dns.Msg)
	if err := r.Unpack(pkt); err != nil || accept(headerOf(pkt)) != dns.MsgAccept {
		return formErr(pkt, out)
	}
	if s.xfr != nil && r.IsTsig() != nil {
		return s.signedUDPReply(pkt, r, client{addr: from}, out)
	}
	b, err := s.reply(r, client{addr: from, info: info}, out)
	if err != nil {
		s.log.Warn("answer not packed", "err", err)
		b, err = errorReply(r, dns.RcodeServerFailure).PackBuffer(out)
	}
	return b, err == nil
}

// formErr is the FORMERR reply to a query packet that cannot be read:
// its ID and opcode, nothing else.
func formErr(pkt, out []byte) ([]byte, bool) {
	if len(pkt) < 12 || pkt[2]&0x80 != 0 {
		return nil, false
	}
	var dh dns.Msg
	dh.Id = uint16(pkt[0])<<8 | uint16(pkt[1])
	dh.Response, dh.Rcode = true, dns.RcodeFormatError
	dh.Opcode = int(pkt[2]>>3) & 0xF
	b, err := dh.PackBuffer(out)
	return b, err == nil
}

// headerOf decodes the counts accept() looks at.
func headerOf(pkt []byte) dns.Header {
	u := func(i int) uint16 { return uint16(pkt[i])<<8 | uint16(pkt[i+1]) }
	return dns.Header{Id: u(0), Bits: u(2), Qdcount: u(4), Ancount: u(6), Nscount: u(8), Arcount: u(10)}
}

// udpLoops runs the loops of one Listen call.
type udpLoops struct {
	pcs   []net.PacketConn
	loops []*udpLoop
	wg    sync.WaitGroup
	// addrs are the address sockets beside a wildcard listener
	// (addrsockets.go); nil otherwise.
	addrs *addrSockets
}

func (s *Server) startUDPLoops(pcs []net.PacketConn, wildcard bool) (*udpLoops, error) {
	ls := &udpLoops{pcs: pcs}
	loops := make([]*udpLoop, len(pcs))
	for i, pc := range pcs {
		l, err := newUDPLoop(s, pc, wildcard)
		if err != nil {
			return nil, err
		}
		loops[i] = l
	}
	ls.loops = loops
	for _, l := range loops {
		ls.wg.Add(1)
		go func() {
			defer ls.wg.Done()
			l.serve()
		}()
	}
	return ls, nil
}

// packets returns how many packets the loops have read.
func (ls *udpLoops) packets() uint64 {
	var n uint64
	for _, l := range ls.loops {
		n += l.packets.Load()
	}
	return n
}

// stop closes the sockets and waits for the loops to finish.
func (ls *udpLoops) stop() {
	if ls.addrs != nil {
		ls.addrs.stop()
	}
	closeAll(ls.pcs)
	ls.wg.Wait()
}
