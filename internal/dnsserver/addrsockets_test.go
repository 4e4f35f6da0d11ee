package dnsserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dadns/dadns/internal/testutil/syncbuf"
)

// wildcardLoops returns the UDP loops of s's only listener.
func wildcardLoops(t *testing.T, s *Server) *udpLoops {
	t.Helper()
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if len(s.listeners) != 1 || s.listeners[0].loops == nil {
		t.Fatalf("%d listeners", len(s.listeners))
	}
	return s.listeners[0].loops
}

// addrPackets sums the packets read by every address socket.
func addrPackets(a *addrSockets) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n uint64
	for _, ls := range a.bound {
		n += ls.packets()
	}
	return n
}

// askedBy sends host the two questions of askFrom and reports whether
// the address sockets (true) or the wildcard sockets (false) read them;
// it fails the test if both or neither did.
func askedBy(t *testing.T, loops *udpLoops, host string, port int) bool {
	t.Helper()
	wild, addr := loops.packets(), addrPackets(loops.addrs)
	askFrom(t, host, port)
	dw, da := loops.packets()-wild, addrPackets(loops.addrs)-addr
	switch {
	case dw == 2 && da == 0:
		return false
	case dw == 0 && da == 2:
		return true
	}
	t.Fatalf("%s: wildcard sockets read %d packets, address sockets %d; want 2 in one of them", host, dw, da)
	return false
}

// serveVersionZone serves version 1 of example.test. with s on listen
// until the test ends and returns the UDP port; a [::] listener on a
// host without IPv6 skips the test.
func serveVersionZone(t *testing.T, s *Server, listen string) int {
	t.Helper()
	s.Apply([]*Zone{versionZone(t, 1)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	udp, _, err := s.Listen(ctx, listen)
	if err != nil {
		if listen[0] == '[' {
			t.Skipf("no IPv6: %v", err)
		}
		t.Fatal(err)
	}
	return udp.(*net.UDPAddr).Port
}

// TestAddressSockets listens on the wildcard addresses with the host's
// real interface addresses: 127.0.0.1 (and ::1) get sockets of their own
// that take their questions, while 127.0.0.2, on no interface, is still
// answered from the address asked by the wildcard sockets.
func TestAddressSockets(t *testing.T) {
	for _, tc := range []struct {
		listen string
		own    []string // answered by address sockets
		wild   []string // answered by the wildcard sockets
	}{
		{"0.0.0.0:0", []string{"127.0.0.1"}, []string{"127.0.0.2"}},
		{"[::]:0", []string{"::1", "127.0.0.1"}, []string{"127.0.0.2"}},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			s := New(Options{Logger: quietLogger(), UDPSockets: 2})
			port := serveVersionZone(t, s, tc.listen)
			loops := wildcardLoops(t, s)
			if loops.addrs == nil {
				t.Fatal("no address sockets beside the wildcard listener")
			}
			bound := loops.addrs.addrs()
			for _, ip := range bound {
				if tc.listen[0] != '[' && ip.Is6() {
					t.Errorf("0.0.0.0 listener bound IPv6 address %v", ip)
				}
				if ip.Is6() && ip.IsLinkLocalUnicast() {
					t.Errorf("link-local address %v bound", ip)
				}
			}
			for _, host := range tc.own {
				if !slices.Contains(bound, netip.MustParseAddr(host)) {
					if host == "::1" {
						t.Logf("no ::1 on this host (bound %v)", bound)
						continue
					}
					t.Fatalf("%s not among the address sockets %v", host, bound)
				}
				if !askedBy(t, loops, host, port) {
					t.Errorf("%s answered by the wildcard sockets", host)
				}
			}
			for _, host := range tc.wild {
				if askedBy(t, loops, host, port) {
					t.Errorf("%s answered by an address socket", host)
				}
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			// Every socket is closed: the port binds again without
			// SO_REUSEPORT on the addresses that had sockets.
			for _, ip := range bound {
				pc, err := net.ListenPacket("udp", netip.AddrPortFrom(ip, uint16(port)).String())
				if err != nil {
					t.Errorf("after Shutdown, %v:%d still taken: %v", ip, port, err)
					continue
				}
				_ = pc.Close()
			}
		})
	}
}

// TestAddressSocketsRescan changes the host's addresses under a 0.0.0.0
// listener: a scan closes the sockets of addresses gone (the wildcard
// sockets answer them again), binds new ones, skips what cannot be
// bound or is not to be (IPv6, multicast), and logs a bind failure once.
func TestAddressSocketsRescan(t *testing.T) {
	var mu sync.Mutex
	host := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	var logs syncbuf.Buffer
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), UDPSockets: 2})
	var listErr error
	s.hostAddrs = func() ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		if listErr != nil {
			return nil, listErr
		}
		return slices.Clone(host), nil
	}
	port := serveVersionZone(t, s, "0.0.0.0:0")
	loops := wildcardLoops(t, s)
	if got := loops.addrs.addrs(); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("127.0.0.1")}) {
		t.Fatalf("address sockets %v, want 127.0.0.1", got)
	}
	if !askedBy(t, loops, "127.0.0.1", port) {
		t.Fatal("127.0.0.1 answered by the wildcard sockets")
	}

	mu.Lock()
	host = []netip.Addr{
		netip.MustParseAddr("127.0.0.3"),
		netip.MustParseAddr("::1"),
		netip.MustParseAddr("fe80::1"),
		netip.MustParseAddr("224.0.0.1"),
		netip.MustParseAddr("192.0.2.77"), // on no interface: bind fails
	}
	mu.Unlock()
	loops.addrs.scan()
	loops.addrs.scan()
	if got := loops.addrs.addrs(); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("127.0.0.3")}) {
		t.Fatalf("after the scan, address sockets %v, want 127.0.0.3", got)
	}
	if askedBy(t, loops, "127.0.0.1", port) {
		t.Error("127.0.0.1 answered by an address socket after its address went")
	}
	if !askedBy(t, loops, "127.0.0.3", port) {
		t.Error("127.0.0.3 answered by the wildcard sockets")
	}
	// Listing fails (a sandbox without netlink): logged once, the sockets
	// bound stay.
	mu.Lock()
	listErr = errors.New("address family not supported by protocol")
	mu.Unlock()
	loops.addrs.scan()
	loops.addrs.scan()
	if n := strings.Count(logs.String(), "cannot list the host's addresses"); n != 1 {
		t.Errorf("listing failure logged %d times over two scans, want once", n)
	}
	if got := loops.addrs.addrs(); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("127.0.0.3")}) {
		t.Errorf("after failed listings, address sockets %v, want 127.0.0.3 kept", got)
	}
	if n := strings.Count(logs.String(), "address socket not bound"); n != 1 {
		t.Errorf("bind failure of 192.0.2.77 logged %d times over two scans, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "192.0.2.77") {
		t.Errorf("bind failure logged without its address:\n%s", logs.String())
	}
}

// TestNoAddressSockets: the option leaves the wildcard sockets alone.
func TestNoAddressSockets(t *testing.T) {
	s := New(Options{Logger: quietLogger(), UDPSockets: 2, NoAddressSockets: true})
	port := serveVersionZone(t, s, "0.0.0.0:0")
	loops := wildcardLoops(t, s)
	if loops.addrs != nil {
		t.Fatal("address sockets opened with NoAddressSockets")
	}
	before := loops.packets()
	askFrom(t, "127.0.0.1", port)
	if d := loops.packets() - before; d != 2 {
		t.Fatalf("wildcard sockets read %d packets, want 2", d)
	}
}

// TestAddressSocketBudget: at most addrMax addresses get sockets, public
// ones first, loopback last; duplicates and unusable ones are dropped.
func TestAddressSocketBudget(t *testing.T) {
	var many []netip.Addr
	for i := range 40 {
		many = append(many, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	public := []netip.Addr{netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("2001:db8::1")}
	lo := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	all := slices.Concat(lo, many, public, many[:3], []netip.Addr{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::1")})
	a := &addrSockets{v6: true}
	got := a.wanted(all)
	want := slices.Concat([]netip.Addr{netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("2001:db8::1")}, many[:addrMax-2])
	if !slices.Equal(got, want) {
		t.Errorf("wanted %v\nwant %v", got, want)
	}
	a.v6 = false
	got = a.wanted(slices.Concat(lo, public, many[:2]))
	want = []netip.Addr{netip.MustParseAddr("192.0.2.9"), many[0], many[1], netip.MustParseAddr("127.0.0.1")}
	if !slices.Equal(got, want) {
		t.Errorf("0.0.0.0: wanted %v, want %v", got, want)
	}
}
