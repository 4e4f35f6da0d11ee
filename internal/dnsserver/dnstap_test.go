package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	framestream "github.com/farsightsec/golang-framestream"
	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"
)

// collector is a dnstap collector on a unix socket: every connection is
// read with golang-dnstap's own Frame Streams input (the reader behind
// its `dnstap -u`), the frames decoded onto frames.
type collector struct {
	l      net.Listener
	frames chan *dnstap.Dnstap
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newCollector(t *testing.T, path string) *collector {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{l: l, frames: make(chan *dnstap.Dnstap, 100000)}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				in, err := dnstap.NewFrameStreamInputTimeout(conn, true, 5*time.Second)
				if err != nil {
					return
				}
				raw := make(chan []byte, 1024)
				go func() {
					in.ReadInto(raw)
					close(raw)
				}()
				for b := range raw {
					m := &dnstap.Dnstap{}
					if proto.Unmarshal(b, m) == nil {
						c.frames <- m
					}
				}
			}()
		}
	}()
	t.Cleanup(c.close)
	return c
}

// close stops accepting and drops every connection.
func (c *collector) close() {
	_ = c.l.Close()
	c.mu.Lock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// next returns the next frame, failing after 10 s.
func (c *collector) next(t *testing.T) *dnstap.Dnstap {
	t.Helper()
	select {
	case m := <-c.frames:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no dnstap frame within 10 s")
		return nil
	}
}

// tapServer serves example.test. on 127.0.0.1 with dnstap opt.
func tapServer(t *testing.T, opt DnstapOptions) (*Server, int) {
	t.Helper()
	s, port, err := tapServerOn(t, opt, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return s, port
}

func tapServerOn(t *testing.T, opt DnstapOptions, listen string) (*Server, int, error) {
	t.Helper()
	s := New(Options{Logger: quietLogger(), Dnstap: &opt})
	t.Cleanup(func() { _ = s.Close() })
	s.Apply([]*Zone{versionZone(t, 1)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	udp, _, err := s.Listen(ctx, listen)
	if err != nil {
		return nil, 0, err
	}
	return s, udp.(*net.UDPAddr).Port, nil
}

// exchange sends name/A with id over network from a socket it binds
// itself, and returns the client's address and the reply.
func exchange(t *testing.T, network string, port int, name string, id uint16) (netip.AddrPort, *dns.Msg) {
	t.Helper()
	conn, err := net.Dial(network, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	q.Id = id
	dc := &dns.Conn{Conn: conn}
	if err := dc.WriteMsg(q); err != nil {
		t.Fatal(err)
	}
	r, err := dc.ReadMsg()
	if err != nil {
		t.Fatal(err)
	}
	return addrPort(conn.LocalAddr()), r
}

// checkTap checks one frame against the query sent.
func checkTap(t *testing.T, m *dnstap.Dnstap, typ dnstap.Message_Type, proto dnstap.SocketProtocol, client netip.AddrPort, port int, id uint16, t0, t1 time.Time) {
	t.Helper()
	if m.GetType() != dnstap.Dnstap_MESSAGE || string(m.GetIdentity()) != "ns-test" || string(m.GetVersion()) != "dadns-test" {
		t.Fatalf("frame %v", m)
	}
	msg := m.GetMessage()
	if msg.GetType() != typ || msg.GetSocketProtocol() != proto || msg.GetSocketFamily() != dnstap.SocketFamily_INET {
		t.Fatalf("%v message: type %v protocol %v family %v", typ, msg.GetType(), msg.GetSocketProtocol(), msg.GetSocketFamily())
	}
	qa, _ := netip.AddrFromSlice(msg.GetQueryAddress())
	ra, _ := netip.AddrFromSlice(msg.GetResponseAddress())
	if qa != client.Addr() || msg.GetQueryPort() != uint32(client.Port()) || ra != netip.MustParseAddr("127.0.0.1") || msg.GetResponsePort() != uint32(port) {
		t.Fatalf("%v addresses: query %v:%d response %v:%d, want %v and 127.0.0.1:%d", typ, qa, msg.GetQueryPort(), ra, msg.GetResponsePort(), client, port)
	}
	qt := time.Unix(int64(msg.GetQueryTimeSec()), int64(msg.GetQueryTimeNsec()))
	if qt.Before(t0) || qt.After(t1) {
		t.Fatalf("query time %v not within %v..%v", qt, t0, t1)
	}
	wire := msg.GetQueryMessage()
	if typ == dnstap.Message_AUTH_RESPONSE {
		wire = msg.GetResponseMessage()
		rt := time.Unix(int64(msg.GetResponseTimeSec()), int64(msg.GetResponseTimeNsec()))
		if rt.Before(qt) || rt.After(t1) {
			t.Fatalf("response time %v not within %v..%v", rt, qt, t1)
		}
	} else if msg.ResponseMessage != nil || msg.ResponseTimeSec != nil {
		t.Fatal("a query message with response fields")
	}
	d := new(dns.Msg)
	if err := d.Unpack(wire); err != nil {
		t.Fatalf("%v message: %v", typ, err)
	}
	if d.Id != id || d.Question[0].Name != "example.test." || d.Response != (typ == dnstap.Message_AUTH_RESPONSE) {
		t.Fatalf("%v message %v", typ, d)
	}
	if d.Response && (len(d.Answer) != 1 || d.Answer[0].(*dns.A).A.String() != "192.0.2.1") {
		t.Fatalf("response %v", d)
	}
}

func TestDnstapUDPAndTCP(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "tap.sock")
	col := newCollector(t, sock)
	s, port := tapServer(t, DnstapOptions{Socket: sock, Queries: true, Responses: true, Identity: "ns-test", Version: "dadns-test"})
	for i, network := range []string{"udp", "tcp"} {
		id := uint16(4242 + i)
		t0 := time.Now()
		client, r := exchange(t, network, port, "example.test.", id)
		t1 := time.Now()
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("rcode %d", r.Rcode)
		}
		p := dnstap.SocketProtocol_UDP
		if network == "tcp" {
			p = dnstap.SocketProtocol_TCP
		}
		checkTap(t, col.next(t), dnstap.Message_AUTH_QUERY, p, client, port, id, t0, t1)
		checkTap(t, col.next(t), dnstap.Message_AUTH_RESPONSE, p, client, port, id, t0, t1)
	}
	// Counted as sent once flushed, which may be just after the reader
	// got them.
	waitFor(t, func() bool { st, _ := s.DnstapStats(); return st.Sent == 4 })
	if st, _ := s.DnstapStats(); st.Sent != 4 || st.Dropped != 0 || !st.Connected {
		t.Fatalf("stats %+v", st)
	}
}

// TestDnstapResponsesOnlyToFile: a file output with responses only,
// read back with golang-dnstap's file input after Close.
func TestDnstapResponsesOnlyToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tap.fstrm")
	if err := os.WriteFile(path, []byte("an earlier capture"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, port := tapServer(t, DnstapOptions{File: path, Responses: true, Identity: "ns-test", Version: "dadns-test"})
	t0 := time.Now()
	var clients []netip.AddrPort
	for i := range 3 {
		c, _ := exchange(t, "udp", port, "example.test.", uint16(100+i))
		clients = append(clients, c)
	}
	t1 := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := dnstap.NewFrameStreamInputFromFilename(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := make(chan []byte, 16)
	go func() { in.ReadInto(raw); close(raw) }()
	i := 0
	for b := range raw {
		m := &dnstap.Dnstap{}
		if err := proto.Unmarshal(b, m); err != nil {
			t.Fatal(err)
		}
		if i >= 3 {
			t.Fatalf("frame %d: %v", i, m)
		}
		checkTap(t, m, dnstap.Message_AUTH_RESPONSE, dnstap.SocketProtocol_UDP, clients[i], port, uint16(100+i), t0, t1)
		i++
	}
	if i != 3 {
		t.Fatalf("%d frames in the file, want 3", i)
	}
	if b, err := os.ReadFile(path + ".old"); err != nil || string(b) != "an earlier capture" {
		t.Fatalf("earlier capture not kept: %q %v", b, err)
	}
}

// TestDnstapReconnects: answers go on without a collector (their
// messages dropped and counted), the output connects once one listens,
// and again after that one went away.
func TestDnstapReconnects(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "tap.sock")
	s, port := tapServer(t, DnstapOptions{Socket: sock, Queries: true, Reconnect: 50 * time.Millisecond, WriteTimeout: time.Second})
	for i := range 5 {
		if _, r := exchange(t, "udp", port, "example.test.", uint16(i)); r.Rcode != dns.RcodeSuccess {
			t.Fatal(r)
		}
	}
	waitFor(t, func() bool { st, _ := s.DnstapStats(); return st.Dropped == 5 })
	for round := range 2 {
		col := newCollector(t, sock)
		// Ask until a message arrives: the first ones after the
		// collector appeared may still meet the wait between attempts.
		deadline := time.Now().Add(10 * time.Second)
		got := false
		for !got && time.Now().Before(deadline) {
			exchange(t, "tcp", port, "example.test.", 7)
			select {
			case m := <-col.frames:
				got = m.GetMessage().GetType() == dnstap.Message_AUTH_QUERY
			case <-time.After(100 * time.Millisecond):
			}
		}
		if !got {
			t.Fatalf("round %d: no message after the collector started", round)
		}
		col.close()
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10 s")
}

// TestDnstapStalledCollector: a collector that takes the stream and then
// never reads does not hold answers up: every query of a burst is
// answered while the queue (64 records) overflows and the overflow is
// counted.
func TestDnstapStalledCollector(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "tap.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	handshook := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// The handshake, then silence.
			if _, err := framestream.NewReader(c, &framestream.ReaderOptions{ContentTypes: [][]byte{dnstap.FSContentType}, Bidirectional: true, Timeout: 5 * time.Second}); err == nil {
				handshook <- c
			}
		}
	}()
	s, port := tapServer(t, DnstapOptions{Socket: sock, Queries: true, Responses: true, Buffer: 64, Reconnect: time.Hour, WriteTimeout: time.Hour})
	exchange(t, "udp", port, "example.test.", 1)
	var stalled net.Conn
	select {
	case stalled = <-handshook:
		defer stalled.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the output never connected")
	}
	if c := cap(s.tap.ch); c != 64 {
		t.Fatalf("queue capacity %d", c)
	}
	const n = 20000
	res := flood(t, "127.0.0.1", port, n, func(int) string { return "example.test." })
	st, _ := s.DnstapStats()
	t.Logf("burst of %d: %d answered; dnstap %d messages sent, %d queries dropped", n, res.full, st.Sent, st.Dropped)
	if res.full != n {
		t.Fatalf("%d of %d answered while the collector stalls", res.full, n)
	}
	if st.Dropped == 0 || st.Sent/2+st.Dropped > n+1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestDnstapWildcard: on 0.0.0.0 and [::] the response address is the
// one each query was sent to (from its pktinfo), with its family.
func TestDnstapWildcard(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ask    []string
	}{
		{"0.0.0.0:0", []string{"127.0.0.1", "127.0.0.2"}},
		{"[::]:0", []string{"::1", "127.0.0.2"}},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "tap.sock")
			col := newCollector(t, sock)
			_, port, err := tapServerOn(t, DnstapOptions{Socket: sock, Responses: true}, tc.listen)
			if err != nil {
				if tc.listen[0] == '[' {
					t.Skipf("no IPv6: %v", err)
				}
				t.Fatal(err)
			}
			for _, host := range tc.ask {
				conn, err := net.Dial("udp", net.JoinHostPort(host, strconv.Itoa(port)))
				if err != nil {
					t.Fatal(err)
				}
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				q := new(dns.Msg)
				q.SetQuestion("example.test.", dns.TypeA)
				dc := &dns.Conn{Conn: conn}
				if err := dc.WriteMsg(q); err != nil {
					t.Fatal(err)
				}
				if _, err := dc.ReadMsg(); err != nil {
					t.Fatal(err)
				}
				client := unmapped(addrPort(conn.LocalAddr()))
				conn.Close()
				msg := col.next(t).GetMessage()
				ra, _ := netip.AddrFromSlice(msg.GetResponseAddress())
				qa, _ := netip.AddrFromSlice(msg.GetQueryAddress())
				fam := dnstap.SocketFamily_INET
				if client.Addr().Is6() {
					fam = dnstap.SocketFamily_INET6
				}
				if ra != netip.MustParseAddr(host) || msg.GetResponsePort() != uint32(port) || qa != client.Addr() ||
					msg.GetQueryPort() != uint32(client.Port()) || msg.GetSocketFamily() != fam {
					t.Fatalf("asked %s from %v: response %v:%d query %v:%d family %v", host, client, ra, msg.GetResponsePort(), qa, msg.GetQueryPort(), msg.GetSocketFamily())
				}
			}
		})
	}
}

// TestDnstapRateLimited: a query rate limiting drops still reaches dnstap
// as an AUTH_QUERY message, without a response message, so a collector
// sees the flood that was not answered.
func TestDnstapRateLimited(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "tap.sock")
	col := newCollector(t, sock)
	s := New(Options{Logger: quietLogger(), UDPSockets: 1,
		Dnstap: &DnstapOptions{Socket: sock, Queries: true, Responses: true, Identity: "ns-test", Version: "dadns-test"},
		RRL:    &RRLOptions{ResponsesPerSecond: 1, Slip: 0}})
	t.Cleanup(func() { _ = s.Close() })
	s.Apply([]*Zone{versionZone(t, 1)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, _, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const sent = 8
	for i := range sent {
		q := new(dns.Msg)
		q.SetQuestion("example.test.", dns.TypeA)
		q.Id = uint16(7000 + i)
		dc := &dns.Conn{Conn: conn}
		if err := dc.WriteMsg(q); err != nil {
			t.Fatal(err)
		}
		// A dropped query gets no reply: wait a little, then go on.
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, _ = dc.ReadMsg()
	}
	// What the server sent is what RRL did not drop (slip 0: no
	// truncated replies), whatever the client had time to read.
	st, _ := s.RRLStats()
	dropped := int(st.Dropped)
	if dropped == 0 || dropped == sent || st.Slipped != 0 {
		t.Fatalf("RRL stats %+v over %d queries: rate limiting did not drop some and answer some", st, sent)
	}
	answered := sent - dropped
	queries, responses := 0, 0
	for range sent + answered {
		switch typ := col.next(t).GetMessage().GetType(); typ {
		case dnstap.Message_AUTH_QUERY:
			queries++
		case dnstap.Message_AUTH_RESPONSE:
			responses++
		default:
			t.Fatalf("message type %v", typ)
		}
	}
	if queries != sent || responses != answered {
		t.Fatalf("dnstap: %d queries and %d responses, want %d and %d", queries, responses, sent, answered)
	}
	select {
	case m := <-col.frames:
		t.Fatalf("an extra frame: %v", m)
	case <-time.After(200 * time.Millisecond):
	}
}
