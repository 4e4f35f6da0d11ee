package dnsserver

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	framestream "github.com/farsightsec/golang-framestream"
	"google.golang.org/protobuf/proto"
)

// dnstap output: every answered query becomes an AUTH_QUERY and/or an
// AUTH_RESPONSE message (RFC-less but de facto standard, dnstap.info),
// written as Frame Streams to a unix socket (a collector such as
// `dnstap -u`) or to a file. The query path never waits for it: it copies
// the two packets into a record and offers it to a bounded queue; when
// the queue is full the record is dropped and counted. One goroutine
// turns records into frames and writes them; when the collector is
// absent, refuses the handshake or does not read within WriteTimeout,
// the connection is dropped, records meanwhile are dropped (counted), and
// it is dialled again every Reconnect.

// DnstapOptions turns dnstap output on. Exactly one of Socket and File.
type DnstapOptions struct {
	// Socket is the path of a unix socket a collector listens on
	// (bidirectional Frame Streams, content type protobuf:dnstap.Dnstap).
	Socket string
	// File is a file written with unidirectional Frame Streams; an
	// existing file is renamed to File+".old" first (a frame stream
	// cannot be appended to).
	File string
	// Queries and Responses choose the messages written.
	Queries, Responses bool
	// Identity and Version fill the dnstap identity and version fields
	// (empty: left out).
	Identity, Version string
	// Buffer is how many answered queries wait for the writer at most;
	// 4096 when zero.
	Buffer int
	// Reconnect is the wait between connection attempts; 1 s when zero.
	Reconnect time.Duration
	// WriteTimeout bounds the handshake and each write to the socket; a
	// collector that does not read for that long is disconnected; 2 s
	// when zero.
	WriteTimeout time.Duration
}

// DnstapStats counts what the dnstap output did with answered queries.
type DnstapStats struct {
	Sent    uint64 // messages (frames) written
	Dropped uint64 // answered queries not written: queue full, collector absent or failing
	// Connected reports an open socket or file.
	Connected bool
}

// tapRecord is one answered query waiting for the writer.
type tapRecord struct {
	tcp          bool
	client, srv  netip.AddrPort
	qtime, rtime time.Time
	query, reply []byte
	noReply      bool // the query went unanswered (rate limiting)
}

type tap struct {
	opt  DnstapOptions
	log  *slog.Logger
	ch   chan *tapRecord
	pool sync.Pool

	sent, dropped atomic.Uint64
	connected     atomic.Bool

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

func newTap(opt DnstapOptions, log *slog.Logger) *tap {
	if opt.Buffer <= 0 {
		opt.Buffer = 4096
	}
	if opt.Reconnect <= 0 {
		opt.Reconnect = time.Second
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 2 * time.Second
	}
	t := &tap{opt: opt, log: log, ch: make(chan *tapRecord, opt.Buffer), stop: make(chan struct{}), done: make(chan struct{})}
	t.pool.New = func() any { return &tapRecord{} }
	go t.run()
	return t
}

// send offers one answered query; it never blocks. query may be nil
// when only responses are written; reply is nil for a query left
// unanswered, which gets its query message only.
func (t *tap) send(tcp bool, client, srv netip.AddrPort, qtime time.Time, query, reply []byte) {
	if reply == nil && !t.opt.Queries {
		return
	}
	r := t.pool.Get().(*tapRecord)
	r.tcp, r.client, r.srv, r.qtime, r.rtime = tcp, client, srv, qtime, time.Now()
	r.query = r.query[:0]
	if t.opt.Queries {
		r.query = append(r.query, query...)
	}
	r.reply = r.reply[:0]
	r.noReply = reply == nil
	if t.opt.Responses {
		r.reply = append(r.reply, reply...)
	}
	select {
	case t.ch <- r:
	default:
		t.dropped.Add(1)
		t.pool.Put(r)
	}
}

// close stops the writer after what is queued, ending the stream.
func (t *tap) close() {
	t.stopOnce.Do(func() { close(t.stop) })
	<-t.done
}

func (t *tap) stats() DnstapStats {
	return DnstapStats{Sent: t.sent.Load(), Dropped: t.dropped.Load(), Connected: t.connected.Load()}
}

// tapConn is the open output.
type tapConn struct {
	w *framestream.Writer
	c io.Closer
}

func (t *tap) run() {
	defer close(t.done)
	var out *tapConn
	var sc *tapScratch
	var lastTry time.Time
	// Messages count as sent once flushed to the socket or file; the
	// queries written since the last flush are dropped if it fails.
	var pendMsgs, pendQueries uint64
	settle := func(ok bool) {
		if ok {
			t.sent.Add(pendMsgs)
		} else {
			t.dropped.Add(pendQueries)
		}
		pendMsgs, pendQueries = 0, 0
	}
	flush := func() bool {
		err := out.w.Flush()
		settle(err == nil)
		if err != nil {
			t.log.Debug("dnstap flush", "err", err)
		}
		return err == nil
	}
	write := func(r *tapRecord) bool {
		n, ok := t.write(out, r, sc)
		pendMsgs += n
		pendQueries++
		if !ok {
			settle(false)
		}
		return ok
	}
	disconnect := func(graceful bool) {
		if out == nil {
			return
		}
		if graceful {
			_ = out.w.Close() // STOP (and FINISH from a socket collector)
		}
		_ = out.c.Close()
		out = nil
		t.connected.Store(false)
	}
	defer disconnect(true)
	sc = &tapScratch{frameType: dnstap.Dnstap_MESSAGE}
	sc.frame = dnstap.Dnstap{Type: &sc.frameType, Message: &sc.msg}
	if t.opt.Identity != "" {
		sc.frame.Identity = []byte(t.opt.Identity)
	}
	if t.opt.Version != "" {
		sc.frame.Version = []byte(t.opt.Version)
	}
	for {
		var r *tapRecord
		select {
		case r = <-t.ch:
		case <-t.stop:
			// Write what is queued when connected, then stop.
			for out != nil {
				select {
				case r = <-t.ch:
				default:
					flush()
					return
				}
				if !write(r) {
					disconnect(false)
				}
			}
			return
		}
		if out == nil && time.Since(lastTry) >= t.opt.Reconnect {
			lastTry = time.Now()
			var err error
			if out, err = t.open(); err != nil {
				t.log.Debug("dnstap output not open", "err", err)
				out = nil
			} else {
				t.connected.Store(true)
			}
		}
		if out == nil {
			t.dropped.Add(1)
			t.pool.Put(r)
			continue
		}
		if !write(r) {
			disconnect(false)
			lastTry = time.Now()
			continue
		}
		// Flush when the queue is empty, and every tapFlushEvery
		// messages under load.
		if len(t.ch) == 0 || pendMsgs >= tapFlushEvery {
			if !flush() {
				disconnect(false)
				lastTry = time.Now()
			}
		}
	}
}

// tapScratch holds the fields a message points to, so that building and
// marshalling a message allocates nothing.
type tapScratch struct {
	typ          dnstap.Message_Type
	fam          dnstap.SocketFamily
	proto        dnstap.SocketProtocol
	qport, rport uint32
	qsec, rsec   uint64
	qnsec, rnsec uint32
	qaddr, raddr [16]byte
	buf          []byte
	frame        dnstap.Dnstap
	msg          dnstap.Message
	frameType    dnstap.Dnstap_Type
}

// tapFlushEvery bounds the messages buffered before a flush.
const tapFlushEvery = 256

// write frames one record and returns the messages written; false when
// the output failed.
func (t *tap) write(out *tapConn, r *tapRecord, sc *tapScratch) (uint64, bool) {
	defer t.pool.Put(r)
	sc.fam, sc.proto = dnstap.SocketFamily_INET, dnstap.SocketProtocol_UDP
	if r.client.Addr().Is6() {
		sc.fam = dnstap.SocketFamily_INET6
	}
	if r.tcp {
		sc.proto = dnstap.SocketProtocol_TCP
	}
	addr := func(a netip.Addr, b *[16]byte) []byte {
		if a.Is4() {
			v := a.As4()
			copy(b[:], v[:])
			return b[:4]
		}
		*b = a.As16()
		return b[:]
	}
	sc.qport, sc.rport = uint32(r.client.Port()), uint32(r.srv.Port())
	sc.qsec, sc.qnsec = uint64(r.qtime.Unix()), uint32(r.qtime.Nanosecond())
	sc.rsec, sc.rnsec = uint64(r.rtime.Unix()), uint32(r.rtime.Nanosecond())
	fill := func(typ dnstap.Message_Type) *dnstap.Message {
		sc.typ = typ
		m := &sc.msg
		*m = dnstap.Message{Type: &sc.typ, SocketFamily: &sc.fam, SocketProtocol: &sc.proto,
			QueryAddress: addr(r.client.Addr(), &sc.qaddr), QueryPort: &sc.qport,
			QueryTimeSec: &sc.qsec, QueryTimeNsec: &sc.qnsec}
		if r.srv.Addr().IsValid() {
			m.ResponseAddress, m.ResponsePort = addr(r.srv.Addr(), &sc.raddr), &sc.rport
		}
		return m
	}
	var err error
	var n uint64
	emit := func() {
		if err != nil {
			return
		}
		sc.buf, err = proto.MarshalOptions{}.MarshalAppend(sc.buf[:0], &sc.frame)
		if err == nil {
			_, err = out.w.WriteFrame(sc.buf)
		}
		if err == nil {
			n++
		}
	}
	if t.opt.Queries {
		fill(dnstap.Message_AUTH_QUERY).QueryMessage = r.query
		emit()
	}
	if t.opt.Responses && !r.noReply {
		m := fill(dnstap.Message_AUTH_RESPONSE)
		m.ResponseTimeSec, m.ResponseTimeNsec = &sc.rsec, &sc.rnsec
		m.ResponseMessage = r.reply
		emit()
	}
	if err != nil {
		t.log.Debug("dnstap write", "err", err)
		return n, false
	}
	return n, true
}

// open connects to the socket or creates the file.
func (t *tap) open() (*tapConn, error) {
	ct := [][]byte{dnstap.FSContentType}
	if t.opt.Socket != "" {
		c, err := net.DialTimeout("unix", t.opt.Socket, t.opt.WriteTimeout)
		if err != nil {
			return nil, err
		}
		w, err := framestream.NewWriter(c, &framestream.WriterOptions{ContentTypes: ct, Bidirectional: true, Timeout: t.opt.WriteTimeout})
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		return &tapConn{w: w, c: c}, nil
	}
	if err := os.Rename(t.opt.File, t.opt.File+".old"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(t.opt.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	w, err := framestream.NewWriter(f, &framestream.WriterOptions{ContentTypes: ct})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &tapConn{w: w, c: f}, nil
}

// DnstapStats returns the dnstap output's counts; ok is false when
// dnstap is off.
func (s *Server) DnstapStats() (DnstapStats, bool) {
	if s.tap == nil {
		return DnstapStats{}, false
	}
	return s.tap.stats(), true
}

// Close stops the dnstap output, writing what is queued and ending the
// stream; it does not stop listeners (Shutdown does).
func (s *Server) Close() error {
	if s.tap != nil {
		s.tap.close()
	}
	return nil
}

// addrPort turns a socket address into an AddrPort (zero when unknown).
func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// unmapped drops the IPv4-mapped form so IPv4 clients are INET.
func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
