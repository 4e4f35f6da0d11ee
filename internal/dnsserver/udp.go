package dnsserver

import (
	"errors"
	"net"
	"sync"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// UDP on a specific address is served by our own loop: recvmmsg and
// sendmmsg move up to udpBatch packets per system call, and cached
// answers skip dns.Msg entirely (fastpath.go). One loop runs per socket.
// A wildcard address goes through miekg/dns's server instead, which
// replies from the address each query was sent to.
const (
	udpBatch = 32
	udpRead  = 4096 // larger queries are dropped
)

// batchConn is the recvmmsg/sendmmsg side of an ipv4 or ipv6 PacketConn.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(pc net.PacketConn) batchConn {
	if a, ok := pc.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(pc)
	}
	return ipv4.NewPacketConn(pc)
}

// udpLoop serves one UDP socket until it is closed.
type udpLoop struct {
	s      *Server
	pc     net.PacketConn
	conn   batchConn
	rx, tx []ipv4.Message
	out    [][]byte
	key    []byte
}

func newUDPLoop(s *Server, pc net.PacketConn) *udpLoop {
	l := &udpLoop{s: s, pc: pc, conn: newBatchConn(pc), key: make([]byte, 0, 260)}
	l.rx = make([]ipv4.Message, udpBatch)
	l.tx = make([]ipv4.Message, udpBatch)
	l.out = make([][]byte, udpBatch)
	for i := range l.rx {
		l.rx[i].Buffers = [][]byte{make([]byte, udpRead)}
		l.tx[i].Buffers = make([][]byte, 1)
		l.out[i] = make([]byte, 0, 1024)
	}
	return l
}

// serve reads batches, answers them and writes the answers back.
func (l *udpLoop) serve() {
	for {
		n, err := l.conn.ReadBatch(l.rx, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.s.log.Warn("udp read", "err", err)
			continue
		}
		snap := l.s.snap.Load()
		k := 0
		for i := range n {
			if out, ok := l.answer(snap, &l.rx[i], l.out[k]); ok {
				l.s.rcodes.count(out)
				l.out[k] = out
				l.tx[k].Buffers[0], l.tx[k].Addr = out, l.rx[i].Addr
				k++
			}
		}
		l.write(k)
	}
}

func (l *udpLoop) write(k int) {
	for sent := 0; sent < k; {
		n, err := l.conn.WriteBatch(l.tx[sent:k], 0)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.s.log.Warn("udp write", "err", err)
			}
			return
		}
		sent += n
	}
}

// answer builds the reply to one packet; false drops the packet.
func (l *udpLoop) answer(snap *snapshot, m *ipv4.Message, out []byte) ([]byte, bool) {
	if m.N == len(m.Buffers[0]) {
		return nil, false // possibly cut short: too big to be a query we take
	}
	pkt := m.Buffers[0][:m.N]
	if out, ok := l.s.fastReply(snap, pkt, l.key, out); ok {
		return out, true
	}
	return l.s.slowReply(pkt, m.Addr, out)
}

// slowReply unpacks pkt and answers it like ServeDNS does, rejecting what
// the miekg/dns server rejects with the same replies.
func (s *Server) slowReply(pkt []byte, from net.Addr, out []byte) ([]byte, bool) {
	var dh dns.Msg
	if len(pkt) < 12 || pkt[2]&0x80 != 0 {
		return nil, false // not a query, or not even a header
	}
	r := new(dns.Msg)
	if err := r.Unpack(pkt); err != nil || accept(headerOf(pkt)) != dns.MsgAccept {
		dh.Id = uint16(pkt[0])<<8 | uint16(pkt[1])
		dh.Response, dh.Rcode = true, dns.RcodeFormatError
		dh.Opcode = int(pkt[2]>>3) & 0xF
		b, err := dh.PackBuffer(out)
		return b, err == nil
	}
	if s.xfr != nil && r.IsTsig() != nil {
		return s.signedUDPReply(pkt, r, client{addr: from}, out)
	}
	b, err := s.reply(r, client{addr: from}, out)
	if err != nil {
		s.log.Warn("answer not packed", "err", err)
		b, err = errorReply(r, dns.RcodeServerFailure).PackBuffer(out)
	}
	return b, err == nil
}

// headerOf decodes the counts accept() looks at.
func headerOf(pkt []byte) dns.Header {
	u := func(i int) uint16 { return uint16(pkt[i])<<8 | uint16(pkt[i+1]) }
	return dns.Header{Id: u(0), Bits: u(2), Qdcount: u(4), Ancount: u(6), Nscount: u(8), Arcount: u(10)}
}

// udpLoops runs the loops of one Listen call.
type udpLoops struct {
	pcs []net.PacketConn
	wg  sync.WaitGroup
}

func (s *Server) startUDPLoops(pcs []net.PacketConn) *udpLoops {
	ls := &udpLoops{pcs: pcs}
	for _, pc := range pcs {
		l := newUDPLoop(s, pc)
		ls.wg.Add(1)
		go func() {
			defer ls.wg.Done()
			l.serve()
		}()
	}
	return ls
}

// stop closes the sockets and waits for the loops to finish.
func (ls *udpLoops) stop() {
	closeAll(ls.pcs)
	ls.wg.Wait()
}
