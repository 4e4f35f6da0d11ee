package dnsserver

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// recorder is a dns.ResponseWriter that keeps the last packed reply.
type recorder struct {
	tcp bool
	out []byte
}

func (w *recorder) LocalAddr() net.Addr {
	if w.tcp {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}

func (w *recorder) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000}
}

func (w *recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	w.out = b
	return err
}

func (w *recorder) Write(b []byte) (int, error) {
	w.out = append(w.out[:0], b...)
	return len(b), nil
}

func (w *recorder) Close() error        { return nil }
func (w *recorder) TsigStatus() error   { return nil }
func (w *recorder) TsigTimersOnly(bool) {}
func (w *recorder) Hijack()             {}

// ask sends one query through ServeDNS and unpacks the reply.
func ask(t testing.TB, s *Server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, false)
	var w recorder
	s.ServeDNS(&w, q)
	r := new(dns.Msg)
	if err := r.Unpack(w.out); err != nil {
		t.Fatalf("unpack reply to %s: %v", name, err)
	}
	return r
}

// versionZone is example.test. at version v: serial v, apex A 192.0.2.v.
func versionZone(t testing.TB, v int) *Zone {
	t.Helper()
	return mustZone(t, "example.test.", fmt.Sprintf(`$TTL 300
@ SOA ns.example.test. h.example.test. %d 3600 600 86400 300
@ NS ns
ns A 192.0.2.250
@ A 192.0.2.%d
v%d TXT "only in version %d"
`, v, v, v, v))
}

func TestApplyServedRemove(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	if _, ok := s.Served("example.test."); ok {
		t.Fatal("served before Apply")
	}
	if r := ask(t, s, "example.test.", dns.TypeSOA); r.Rcode != dns.RcodeRefused || r.Authoritative {
		t.Fatalf("no zones: rcode %s AA %v, want REFUSED without AA", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	z1 := versionZone(t, 1)
	other := mustZone(t, "other.test.", "@ 300 SOA ns.other.test. h.other.test. 1 1 1 1 1\n@ 300 NS ns.example.test.\n")
	s.Apply([]*Zone{z1, other}, nil)
	if h, ok := s.Served("EXAMPLE.test"); !ok || h != z1.Hash {
		t.Fatalf("Served = %q, %v; want %q", h, ok, z1.Hash)
	}
	if got := s.Origins(); !slices.Equal(got, []string{"example.test.", "other.test."}) {
		t.Fatalf("Origins = %v", got)
	}
	if z, ok := s.Zone("example.test."); !ok || z.Hash != z1.Hash || !sameRecords(z.RRs, z1.RRs) {
		t.Fatalf("Zone = %v, %v; want %v", z, ok, z1)
	}
	if r := ask(t, s, "v1.example.test.", dns.TypeTXT); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("v1 TXT: %v", r)
	}

	z2 := versionZone(t, 2)
	s.Apply([]*Zone{z2}, []string{"other.test."})
	if h, _ := s.Served("example.test."); h != z2.Hash {
		t.Fatalf("Served after update = %q, want %q", h, z2.Hash)
	}
	if r := ask(t, s, "v1.example.test.", dns.TypeTXT); r.Rcode != dns.RcodeNameError {
		t.Fatalf("v1 after update: rcode %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	if _, ok := s.Served("other.test."); ok {
		t.Fatal("other.test. still served after remove")
	}
	if r := ask(t, s, "other.test.", dns.TypeSOA); r.Rcode != dns.RcodeRefused {
		t.Fatalf("removed zone: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}

func TestApplyKeepsUnchangedIndex(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	s.Apply([]*Zone{versionZone(t, 1)}, nil)
	before := s.snap.Load().zones.get("example.test.")
	again := versionZone(t, 1) // same content, same hash, new value
	s.Apply([]*Zone{again}, nil)
	if after := s.snap.Load().zones.get("example.test."); after != before {
		t.Fatal("an unchanged zone was re-indexed")
	}
	s.Apply([]*Zone{versionZone(t, 3)}, nil)
	if after := s.snap.Load().zones.get("example.test."); after == before {
		t.Fatal("a changed zone kept its old index")
	}
}

func TestApplyRejectsZoneWithoutSOA(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	good := versionZone(t, 1)
	s.Apply([]*Zone{good}, nil)
	bad := &Zone{Origin: "example.test.", Hash: "broken", RRs: []dns.RR{
		&dns.A{Hdr: dns.RR_Header{Name: "example.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: net.IPv4(192, 0, 2, 9)},
	}}
	s.Apply([]*Zone{bad}, nil)
	if h, _ := s.Served("example.test."); h != good.Hash {
		t.Fatalf("Served = %q after a zone without SOA; want the previous %q", h, good.Hash)
	}
}

// TestSwapUnderQueries checks, under -race, that queries running while
// Apply swaps versions always see one whole version: the SOA serial and
// the apex address of an ANY answer belong together.
func TestSwapUnderQueries(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	versions := make([]*Zone, 4)
	for i := range versions {
		versions[i] = versionZone(t, i+1)
	}
	s.Apply(versions[:1], nil)
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		queries atomic.Int64
		errs    = make(chan error, 8)
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if err := checkConsistent(s); err != nil {
					errs <- err
					return
				}
				queries.Add(1)
			}
		}()
	}
	for i := range 200 {
		s.Apply([]*Zone{versions[i%len(versions)]}, nil)
	}
	// The readers run on until 1,000 answers were checked; one that found an
	// inconsistency stops early, so the wait also ends at the first error
	// and after 30 s at most.
	for deadline := time.Now().Add(30 * time.Second); queries.Load() < 1000 && len(errs) == 0; {
		if time.Now().After(deadline) {
			t.Errorf("only %d answers checked in 30 s", queries.Load())
			break
		}
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func checkConsistent(s *Server) error {
	q := new(dns.Msg)
	q.SetQuestion("example.test.", dns.TypeANY)
	var w recorder
	s.ServeDNS(&w, q)
	r := new(dns.Msg)
	if err := r.Unpack(w.out); err != nil {
		return err
	}
	var serial uint32
	var addr net.IP
	for _, rr := range r.Answer {
		switch x := rr.(type) {
		case *dns.SOA:
			serial = x.Serial
		case *dns.A:
			addr = x.A
		}
	}
	if serial == 0 || addr == nil || uint32(addr.To4()[3]) != serial {
		return fmt.Errorf("mixed versions in one answer: serial %d, address %v", serial, addr)
	}
	return nil
}

func TestListenAndShutdown(t *testing.T) {
	s := New(Options{Logger: quietLogger(), UDPSockets: 2})
	s.Apply([]*Zone{versionZone(t, 1)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if udp.(*net.UDPAddr).Port != tcp.(*net.TCPAddr).Port {
		t.Fatalf("UDP %v and TCP %v on different ports", udp, tcp)
	}
	for _, c := range []struct{ net, addr string }{{"udp", udp.String()}, {"tcp", tcp.String()}} {
		m := new(dns.Msg)
		m.SetQuestion("Example.Test.", dns.TypeA)
		r, _, err := (&dns.Client{Net: c.net, Timeout: 5 * time.Second}).Exchange(m, c.addr)
		if err != nil {
			t.Fatalf("%s: %v", c.net, err)
		}
		if len(r.Answer) != 1 || !r.Authoritative || r.Question[0].Name != "Example.Test." {
			t.Fatalf("%s: unexpected reply %v", c.net, r)
		}
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := s.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeA)
	if _, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(m, tcp.String()); err == nil {
		t.Fatal("TCP still answering after Shutdown")
	}
}

func TestListenStopsWithContext(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	_, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", tcp.String(), time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still listening after the context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTruncationWithoutEDNS(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	var text = "$TTL 60\n@ SOA ns.big.test. h.big.test. 1 1 1 1 1\n@ NS ns.big.test.\nns A 192.0.2.1\n"
	for i := range 60 {
		text += fmt.Sprintf("many A 192.0.2.%d\n", i+1)
	}
	s.Apply([]*Zone{mustZone(t, "big.test.", text)}, nil)
	q := new(dns.Msg)
	q.SetQuestion("many.big.test.", dns.TypeA)
	var w recorder
	s.ServeDNS(&w, q)
	r := new(dns.Msg)
	if err := r.Unpack(w.out); err != nil {
		t.Fatal(err)
	}
	if !r.Truncated || len(w.out) > dns.MinMsgSize || len(r.Answer) == 0 || len(r.Answer) == 60 {
		t.Fatalf("TC %v, %d bytes, %d answers; want TC with a partial answer in 512 bytes", r.Truncated, len(w.out), len(r.Answer))
	}
	w = recorder{tcp: true}
	s.ServeDNS(&w, q)
	if err := r.Unpack(w.out); err != nil {
		t.Fatal(err)
	}
	if r.Truncated || len(r.Answer) != 60 {
		t.Fatalf("over TCP: TC %v, %d answers; want all 60", r.Truncated, len(r.Answer))
	}
}

func TestCanonicalOrder(t *testing.T) {
	// RFC 4034 section 6.1's example, in order.
	names := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
	}
	for i := 1; i < len(names); i++ {
		if string(canonicalKey(names[i-1])) >= string(canonicalKey(names[i])) {
			t.Errorf("%s sorts after %s", names[i-1], names[i])
		}
	}
}

// TestListenWildcard covers the wildcard-address path: one listener on
// 0.0.0.0 (and one on [::] when the host has IPv6), questions sent to
// 127.0.0.1 and 127.0.0.2 (and ::1), each answered from the address
// asked, through the batched UDP loops (no miekg/dns UDP server).
func TestListenWildcard(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ask    []string
	}{
		{"0.0.0.0:0", []string{"127.0.0.1", "127.0.0.2"}},
		{"[::]:0", []string{"::1", "127.0.0.2"}},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			s := New(Options{Logger: quietLogger(), UDPSockets: 2})
			port := serveVersionZone(t, s, tc.listen)
			for _, l := range s.listeners {
				for _, srv := range l.servers {
					if srv.PacketConn != nil {
						t.Fatal("UDP served by miekg/dns's server")
					}
				}
			}
			for _, host := range tc.ask {
				askFrom(t, host, port)
			}
		})
	}
}

// askFrom sends a query to host:port from an unconnected socket and
// checks that the reply comes from exactly that address and port.
func askFrom(t *testing.T, host string, port int) {
	t.Helper()
	ip := net.ParseIP(host)
	// The client sits on the other loopback address, so that a reply
	// whose source the kernel picked would come from the wrong one.
	network, local := "udp4", net.IPv4(127, 0, 0, 1)
	if ip.To4() == nil {
		network, local = "udp6", net.IPv6loopback
	} else if ip.Equal(local) {
		local = net.IPv4(127, 0, 0, 2)
	}
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: local})
	if err != nil {
		t.Skipf("%s: %v", host, err)
	}
	defer c.Close()
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeA)
	m.SetEdns0(1232, false)
	for i := range 2 { // the second is answered from the cache (fast path)
		m.Id = uint16(100 + i)
		pkt, _ := m.Pack()
		if _, err := c.WriteToUDP(pkt, &net.UDPAddr{IP: ip, Port: port}); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 2048)
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("ask %s: %v", host, err)
		}
		if !from.IP.Equal(ip) || from.Port != port {
			t.Fatalf("asked %s:%d, reply from %v", host, port, from)
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:n]); err != nil || r.Id != m.Id || len(r.Answer) != 1 || r.IsEdns0() == nil {
			t.Fatalf("ask %s: unexpected reply %v (%v)", host, r, err)
		}
	}
}

// sameRecords reports whether a and b hold the same records in the same
// order.
func sameRecords(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return false
		}
	}
	return true
}
