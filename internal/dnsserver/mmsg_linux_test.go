package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// mmsgPair is a server socket driven by mmsgConn and clients that send
// to it.
type mmsgPair struct {
	srv  net.PacketConn
	conn *mmsgConn
	rx   []ipv4.Message
	tx   []ipv4.Message
}

func newMmsgPair(t *testing.T, network, addr string, oob bool) *mmsgPair {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Skipf("%s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	bc, err := newBatchConn(pc, oob)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := bc.(*mmsgConn)
	if !ok {
		t.Fatalf("newBatchConn gave %T, not the Linux batches", bc)
	}
	p := &mmsgPair{srv: pc, conn: c, rx: make([]ipv4.Message, udpBatch), tx: make([]ipv4.Message, udpBatch)}
	for i := range p.rx {
		p.rx[i].Buffers = [][]byte{make([]byte, udpRead)}
		p.tx[i].Buffers = make([][]byte, 1)
		if oob {
			p.rx[i].OOB = make([]byte, oobSize)
		}
	}
	return p
}

// readAll reads until want packets are in (batches may come short).
func (p *mmsgPair) readAll(t *testing.T, want int) []ipv4.Message {
	t.Helper()
	var got []ipv4.Message
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < want {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d packets", len(got), want)
		}
		_ = p.srv.SetReadDeadline(deadline)
		n, err := p.conn.ReadBatch(p.rx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			m := p.rx[i]
			// The conn reuses its buffers and addresses: keep copies.
			ua := *m.Addr.(*net.UDPAddr)
			ua.IP = append(net.IP(nil), ua.IP...)
			m.Addr = &ua
			m.Buffers = [][]byte{append([]byte(nil), m.Buffers[0][:m.N]...)}
			got = append(got, m)
		}
	}
	return got
}

// TestMmsgConnRoundTrip sends packets from several clients, reads them
// in batches and answers each through WriteBatch, to the source read:
// every client gets its own answer, from the server's address, over
// IPv4, IPv6 and a dual-stack wildcard socket (IPv4 clients appear as
// v4-mapped addresses there, and are answered).
func TestMmsgConnRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		network, listen string
		clients         []string // client networks and addresses
		target          string
	}{
		{"udp4", "127.0.0.1:0", []string{"udp4/127.0.0.1", "udp4/127.0.0.2"}, "127.0.0.1"},
		{"udp6", "[::1]:0", []string{"udp6/::1"}, "::1"},
		{"udp", "[::]:0", []string{"udp4/127.0.0.1", "udp6/::1"}, ""},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			p := newMmsgPair(t, tc.network, tc.listen, tc.target == "")
			port := p.srv.LocalAddr().(*net.UDPAddr).Port
			var clients []*net.UDPConn
			for _, c := range tc.clients {
				network, host, _ := cut(c, "/")
				cc, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(host)})
				if err != nil {
					t.Skipf("%s: %v", c, err)
				}
				defer cc.Close()
				clients = append(clients, cc)
			}
			const each = 20 // more than fits one batch with two clients
			for i, cc := range clients {
				to := tc.target
				if to == "" {
					to = cc.LocalAddr().(*net.UDPAddr).IP.String()
				}
				for j := range each {
					msg := fmt.Appendf(nil, "q %d %d", i, j)
					if _, err := cc.WriteToUDP(msg, &net.UDPAddr{IP: net.ParseIP(to), Port: port}); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := p.readAll(t, each*len(clients))
			for _, m := range got {
				ua := m.Addr.(*net.UDPAddr)
				known := false
				for _, cc := range clients {
					la := cc.LocalAddr().(*net.UDPAddr)
					known = known || la.Port == ua.Port && la.IP.Equal(ua.IP)
				}
				if !known {
					t.Fatalf("packet %q from %v, no such client", m.Buffers[0], ua)
				}
			}
			// Send again and answer each to the address the conn read.
			for i, cc := range clients {
				to := tc.target
				if to == "" {
					to = cc.LocalAddr().(*net.UDPAddr).IP.String()
				}
				if _, err := cc.WriteToUDP(fmt.Appendf(nil, "again %d", i), &net.UDPAddr{IP: net.ParseIP(to), Port: port}); err != nil {
					t.Fatal(err)
				}
			}
			answered := 0
			deadline := time.Now().Add(5 * time.Second)
			for answered < len(clients) && time.Now().Before(deadline) {
				_ = p.srv.SetReadDeadline(deadline)
				n, err := p.conn.ReadBatch(p.rx, 0)
				if err != nil {
					t.Fatal(err)
				}
				for i := range n {
					p.tx[i].Buffers[0] = append([]byte("re: "), p.rx[i].Buffers[0][:p.rx[i].N]...)
					p.tx[i].Addr = p.rx[i].Addr
					p.tx[i].OOB = nil
					if p.rx[i].NN > 0 {
						p.tx[i].OOB = replySource(make([]byte, oobSize), p.rx[i].OOB[:cap(p.rx[i].OOB)], p.rx[i].NN)
					}
				}
				for sent := 0; sent < n; {
					k, err := p.conn.WriteBatch(p.tx[sent:n], 0)
					if err != nil {
						t.Fatal(err)
					}
					sent += k
				}
				answered += n
			}
			for i, cc := range clients {
				_ = cc.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 100)
				n, from, err := cc.ReadFromUDP(buf)
				if err != nil {
					t.Fatalf("client %d: %v", i, err)
				}
				if want := fmt.Sprintf("re: again %d", i); string(buf[:n]) != want {
					t.Fatalf("client %d got %q, want %q", i, buf[:n], want)
				}
				asked := net.ParseIP(tc.target)
				if tc.target == "" {
					asked = cc.LocalAddr().(*net.UDPAddr).IP
				}
				if from.Port != port || !from.IP.Equal(asked) {
					t.Fatalf("client %d asked %v, reply from %v", i, asked, from)
				}
			}
		})
	}
}

func cut(s, sep string) (string, string, bool) {
	for i := range len(s) - len(sep) + 1 {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// TestMmsgConnNoAllocs: a batch read and answered allocates nothing.
// The client is an mmsgConn too, sending to an address made once.
func TestMmsgConnNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	srv := newMmsgPair(t, "udp4", "127.0.0.1:0", false)
	cli := newMmsgPair(t, "udp4", "127.0.0.1:0", false)
	to := srv.srv.LocalAddr()
	for i := range 4 {
		cli.tx[i].Buffers[0], cli.tx[i].Addr = []byte("question"), to
	}
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := cli.conn.WriteBatch(cli.tx[:4], 0); err != nil || n != 4 {
			t.Fatal(n, err)
		}
		for got := 0; got < 4; {
			n, err := srv.conn.ReadBatch(srv.rx, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				srv.tx[i].Buffers[0], srv.tx[i].Addr = srv.rx[i].Buffers[0][:srv.rx[i].N], srv.rx[i].Addr
			}
			if k, err := srv.conn.WriteBatch(srv.tx[:n], 0); err != nil || k != n {
				t.Fatal(k, err)
			}
			got += n
		}
		for got := 0; got < 4; {
			n, err := cli.conn.ReadBatch(cli.rx, 0)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per batch of 4 questions and answers", allocs)
	}
}

// TestMmsgConnOtherAddresses: replies to addresses the conn did not read
// (a *net.UDPAddr made elsewhere) are encoded for the socket's family;
// an address that does not fit fails alone, and the loop's write skips
// it and sends the rest.
func TestMmsgConnOtherAddresses(t *testing.T) {
	p := newMmsgPair(t, "udp4", "127.0.0.1:0", false)
	cc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	good := cc.LocalAddr().(*net.UDPAddr)
	bad := &net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 53} // no IPv6 on an IPv4 socket
	l := &udpLoop{s: New(Options{Logger: quietLogger()}), conn: p.conn, tx: p.tx}
	for i, a := range []net.Addr{good, bad, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, good} {
		p.tx[i].Buffers[0] = fmt.Appendf(nil, "m%d", i)
		p.tx[i].Addr = a
	}
	if _, err := p.conn.WriteBatch(p.tx[1:2], 0); err == nil {
		t.Fatal("an IPv6 address sent on an IPv4 socket")
	}
	l.write(4)
	for _, want := range []string{"m0", "m3"} {
		_ = cc.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 16)
		n, err := cc.Read(buf)
		if err != nil {
			t.Fatalf("want %s: %v", want, err)
		}
		if string(buf[:n]) != want {
			t.Fatalf("got %q, want %s", buf[:n], want)
		}
	}

	// IPv6 and v4-mapped on a dual-stack socket.
	p6 := newMmsgPair(t, "udp", "[::]:0", false)
	c6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skip(err)
	}
	defer c6.Close()
	p6.tx[0].Buffers[0], p6.tx[0].Addr = []byte("to v4"), good
	p6.tx[1].Buffers[0], p6.tx[1].Addr = []byte("to v6"), c6.LocalAddr()
	if n, err := p6.conn.WriteBatch(p6.tx[:2], 0); err != nil || n != 2 {
		t.Fatal(n, err)
	}
	for _, c := range []*net.UDPConn{cc, c6} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 16)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(c.LocalAddr(), err)
		}
	}
}

// TestMmsgConnClosed: a read on a socket closed meanwhile ends with
// net.ErrClosed, which ends the loop.
func TestMmsgConnClosed(t *testing.T) {
	p := newMmsgPair(t, "udp4", "127.0.0.1:0", false)
	done := make(chan error, 1)
	go func() {
		_, err := p.conn.ReadBatch(p.rx, 0)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	p.srv.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read on a closed socket: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read not ended by Close")
	}
	p.tx[0].Buffers[0], p.tx[0].Addr = []byte("late"), p.srv.LocalAddr()
	if _, err := p.conn.WriteBatch(p.tx[:1], 0); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on a closed socket: %v", err)
	}
}

// TestUDPLoopNoAllocs: with the shipped defaults (RRL with loopback
// exempt, cookies, minimal ANY, per-zone counts), a served UDP loop
// answers cached and templated questions (names that exist, missing
// types, wildcard names, NXDOMAIN) without allocating: the process's
// allocation count barely moves over thousands of questions. The client
// is an mmsgConn, which allocates nothing either. On an address, and on
// wildcard sockets alone (each packet with its pktinfo control message,
// each reply with one).
func TestUDPLoopNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, tc := range []struct{ listen, client, ask string }{
		{"127.0.0.1:0", "udp4", "127.0.0.1"},
		{"0.0.0.0:0", "udp4", "127.0.0.1"},
		{"[::]:0", "udp6", "::1"},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			s := New(Options{Logger: quietLogger(), UDPSockets: 1, ZoneCounts: true, MinimalANY: true, NoAddressSockets: true,
				RRL:     &RRLOptions{Slip: 2, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}},
				Cookies: &CookieOptions{}})
			s.Apply(hostingZones(t, 20), nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			udp, _, err := s.Listen(ctx, tc.listen)
			if err != nil {
				t.Skip(err)
			}
			defer s.Shutdown(context.Background())
			to := &net.UDPAddr{IP: net.ParseIP(tc.ask), Port: udp.(*net.UDPAddr).Port}
			cli := newMmsgPair(t, tc.client, net.JoinHostPort(tc.ask, "0"), false)
			qs := hostingQueries(t, 20, udpBatch)
			for i, q := range qs {
				cli.tx[i].Buffers[0], cli.tx[i].Addr = q, to
			}
			round := func() {
				if n, err := cli.conn.WriteBatch(cli.tx, 0); err != nil || n != len(cli.tx) {
					t.Fatal(n, err)
				}
				for got := 0; got < len(qs); {
					_ = cli.srv.SetReadDeadline(time.Now().Add(5 * time.Second))
					n, err := cli.conn.ReadBatch(cli.rx, 0)
					if err != nil {
						t.Fatalf("%d of %d answers: %v", got, len(qs), err)
					}
					for i := range n {
						if from := cli.rx[i].Addr.(*net.UDPAddr); !from.IP.Equal(to.IP) || from.Port != to.Port {
							t.Fatalf("asked %v, answered from %v", to, from)
						}
					}
					got += n
				}
			}
			for range 3 { // fill the cache: the first answers take the full path
				round()
			}
			const rounds = 100
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range rounds {
				round()
			}
			runtime.ReadMemStats(&after)
			// SetReadDeadline and the runtime's own work allocate a little.
			per := float64(after.Mallocs-before.Mallocs) / (rounds * udpBatch)
			t.Logf("%.3f allocations per question answered", per)
			if per > 0.05 {
				t.Fatalf("%.2f allocations per question answered", per)
			}
		})
	}
}
