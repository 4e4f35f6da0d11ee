package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	xfrKey       = "xfr-key."
	xfrSecret    = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
	xfrBadSecret = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nMTI="
)

// xfrZone is a zone with n extra A records at serial.
func xfrZone(t testing.TB, origin string, serial, n int) *Zone {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%[1]s 3600 IN SOA ns1.%[1]s hostmaster.%[1]s %[2]d 3600 600 1209600 300\n%[1]s 3600 IN NS ns1.%[1]s\nns1.%[1]s 3600 IN A 192.0.2.1\n", origin, serial)
	for i := range n {
		fmt.Fprintf(&b, "h%d.%s 3600 IN A 198.51.%d.%d\n", i, origin, (i/250)%250, i%250+1)
	}
	return mustZone(t, origin, b.String())
}

// startXFR runs a server with transfers allowed to 127.0.0.1 unsigned and
// to anyone with the key.
func startXFR(t *testing.T, opt TransferOptions) (*Server, string) {
	t.Helper()
	if opt.Allow == nil {
		opt.Allow = func(a netip.Addr, key string) bool { return key == xfrKey || a == netip.MustParseAddr("127.0.0.1") }
	}
	if opt.TSIG == nil {
		opt.TSIG = map[string]TSIGKey{xfrKey: {Algorithm: dns.HmacSHA256, Secret: xfrSecret}}
	}
	s := New(Options{Logger: quietLogger(), Transfers: &opt})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return s, tcp.String()
}

// transfer runs an AXFR or IXFR and returns the records and the first error.
func transfer(addr, origin string, qtype uint16, serial uint32, key, secret, local string) ([]dns.RR, int, error) {
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr(origin, serial, "ns.", "h.")
	} else {
		m.SetAxfr(origin)
	}
	tr := &dns.Transfer{DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second}
	if key != "" {
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		tr.TsigSecret = map[string]string{key: secret}
	}
	if local != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			return nil, 0, err
		}
		tr.Conn = &dns.Conn{Conn: conn}
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, 0, err
	}
	var rrs []dns.RR
	msgs := 0
	for env := range ch {
		if env.Error != nil {
			return rrs, msgs, env.Error
		}
		msgs++
		rrs = append(rrs, env.RR...)
	}
	return rrs, msgs, nil
}

func TestTransfersClosedByDefault(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	s.Apply([]*Zone{xfrZone(t, "closed.example.", 1, 3)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, tcp, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = transfer(tcp.String(), "closed.example.", dns.TypeAXFR, 0, "", "", "")
	if err == nil || !strings.Contains(err.Error(), "REFUSED") && !strings.Contains(err.Error(), "bad xfr rcode: 5") {
		t.Fatalf("AXFR without transfers configured: %v, want REFUSED", err)
	}
}

func TestAXFRAccessAndTSIG(t *testing.T) {
	s, addr := startXFR(t, TransferOptions{
		Allow: func(a netip.Addr, key string) bool { return key == xfrKey || a == netip.MustParseAddr("127.0.0.2") },
	})
	z := xfrZone(t, "acl.example.", 7, 2000) // several messages
	s.Apply([]*Zone{z}, nil)

	if _, _, err := transfer(addr, "acl.example.", dns.TypeAXFR, 0, "", "", "127.0.0.1"); err == nil {
		t.Fatal("unsigned AXFR from an address not allowed: want REFUSED")
	}
	rrs, msgs, err := transfer(addr, "acl.example.", dns.TypeAXFR, 0, "", "", "127.0.0.2")
	if err != nil {
		t.Fatalf("AXFR from the allowed address: %v", err)
	}
	if len(rrs) != len(z.RRs)+1 || msgs < 2 {
		t.Fatalf("AXFR: %d records in %d messages, want %d in several", len(rrs), msgs, len(z.RRs)+1)
	}
	if rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
		t.Fatal("AXFR must start and end with the SOA")
	}
	if _, _, err := transfer(addr, "acl.example.", dns.TypeAXFR, 0, xfrKey, xfrSecret, "127.0.0.1"); err != nil {
		t.Fatalf("signed AXFR with the key: %v", err)
	}
	if _, _, err := transfer(addr, "acl.example.", dns.TypeAXFR, 0, xfrKey, xfrBadSecret, "127.0.0.1"); err == nil {
		t.Fatal("AXFR signed with a wrong secret must fail")
	}
	if _, _, err := transfer(addr, "other.example.", dns.TypeAXFR, 0, xfrKey, xfrSecret, "127.0.0.1"); err == nil {
		t.Fatal("AXFR of a zone not served must fail (NOTAUTH)")
	}
	st := s.TransferStats()
	if st.Transfers[[2]string{"AXFR", "ok"}] != 2 || st.Transfers[[2]string{"AXFR", "refused"}] != 1 ||
		st.Transfers[[2]string{"AXFR", "badtsig"}] != 1 || st.Transfers[[2]string{"AXFR", "notauth"}] != 1 {
		t.Fatalf("stats %v", st.Transfers)
	}
	secs := s.Secondaries()
	if len(secs) != 2 {
		t.Fatalf("secondaries %+v", secs)
	}
}

func TestIXFRFromJournal(t *testing.T) {
	s, addr := startXFR(t, TransferOptions{})
	s.Apply([]*Zone{xfrZone(t, "ix.example.", 1, 10)}, nil)
	s.Apply([]*Zone{xfrZone(t, "ix.example.", 2, 12)}, nil) // two added
	s.Apply([]*Zone{xfrZone(t, "ix.example.", 3, 11)}, nil) // one removed

	rrs, _, err := transfer(addr, "ix.example.", dns.TypeIXFR, 1, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	// SOA3, SOA1, SOA2, +h10, +h11, SOA2, -h11, SOA3, SOA3
	var shape []string
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			shape = append(shape, fmt.Sprintf("SOA%d", soa.Serial))
		} else {
			shape = append(shape, strings.SplitN(rr.Header().Name, ".", 2)[0])
		}
	}
	if got := strings.Join(shape, " "); got != "SOA3 SOA1 SOA2 h10 h11 SOA2 h11 SOA3 SOA3" {
		t.Fatalf("IXFR from 1: %s", got)
	}
	rrs, _, err = transfer(addr, "ix.example.", dns.TypeIXFR, 3, "", "", "")
	if err != nil || len(rrs) != 1 {
		t.Fatalf("IXFR when up to date: %d records, %v; want the SOA alone", len(rrs), err)
	}
	rrs, _, err = transfer(addr, "ix.example.", dns.TypeIXFR, 99999, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	// serial 99999 is "newer" than 3 in RFC 1982 terms? No: 99999-3 > 0, so the client is ahead: SOA alone.
	if len(rrs) != 1 {
		t.Fatalf("IXFR from a serial ahead of ours: %d records", len(rrs))
	}
	s.Apply([]*Zone{xfrZone(t, "ix.example.", 1, 5)}, nil) // serial went back: journal restarts
	s.Apply([]*Zone{xfrZone(t, "ix.example.", 4, 5)}, nil)
	rrs, _, err = transfer(addr, "ix.example.", dns.TypeIXFR, 3, "", "", "")
	if err != nil || len(rrs) != 5+3+1 {
		t.Fatalf("IXFR after a serial reset: %d records (%v), want the whole zone", len(rrs), err)
	}
}

func TestTransferSlowClientCutOff(t *testing.T) {
	s, addr := startXFR(t, TransferOptions{Timeout: time.Second, MaxConcurrent: 2})
	// 3,000 TXT records of 2 KiB: 6 MiB, more than the kernel buffers hold.
	var b strings.Builder
	b.WriteString("big.example. 3600 IN SOA ns1.big.example. h.big.example. 1 3600 600 1209600 300\nbig.example. 3600 IN NS ns1.big.example.\n")
	chunkText := strings.Repeat("x", 250)
	for i := range 3000 {
		fmt.Fprintf(&b, "t%d.big.example. 3600 IN TXT", i)
		for range 8 {
			b.WriteString(" \"" + chunkText + "\"")
		}
		b.WriteString("\n")
	}
	s.Apply([]*Zone{mustZone(t, "big.example.", b.String()), xfrZone(t, "small.example.", 1, 3)}, nil)
	// Clients that ask and never read.
	var conns []net.Conn
	for range 2 {
		// A receive buffer of 4 KiB set before connecting keeps the
		// window small, so the server's writes block rather than land
		// in kernel buffers.
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		m := new(dns.Msg)
		m.SetAxfr("big.example.")
		b, _ := m.Pack()
		if _, err := c.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.TransferStats().Transfers
		if st[[2]string{"AXFR", "timeout"}] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stalled transfers not cut off: %v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The slots (2) are free again: a reading client gets a zone.
	if rrs, _, err := transfer(addr, "small.example.", dns.TypeAXFR, 0, "", "", ""); err != nil || len(rrs) != 3+4 {
		t.Fatalf("AXFR after the stalled ones: %d records, %v", len(rrs), err)
	}
}

func TestCatalogZone(t *testing.T) {
	s, addr := startXFR(t, TransferOptions{Catalog: "catalog.dadns.invalid",
		Groups: func(os []string) map[string]string {
			out := map[string]string{}
			for _, o := range os {
				out[o] = "da1.example"
			}
			return out
		}})
	cat := func() map[string]string {
		t.Helper()
		rrs, _, err := transfer(addr, "catalog.dadns.invalid.", dns.TypeAXFR, 0, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.PTR:
				out[v.Ptr] = v.Hdr.Name
			case *dns.SOA:
				out["serial"] = fmt.Sprint(v.Serial)
			case *dns.TXT:
				out[v.Hdr.Name] = strings.Join(v.Txt, "")
			}
		}
		return out
	}
	c0 := cat()
	if c0["version.catalog.dadns.invalid."] != "2" {
		t.Fatalf("empty catalog: %v", c0)
	}
	s.Apply([]*Zone{xfrZone(t, "a.example.", 1, 1), xfrZone(t, "b.example.", 1, 1)}, nil)
	c1 := cat()
	if c1["a.example."] == "" || c1["b.example."] == "" || c1["serial"] == c0["serial"] {
		t.Fatalf("catalog after two zones: %v (before %v)", c1, c0)
	}
	if c1["group."+c1["a.example."]] != "da1.example" {
		t.Fatalf("group property missing: %v", c1)
	}
	s.Apply([]*Zone{xfrZone(t, "a.example.", 2, 1)}, nil) // content change only
	if c := cat(); c["serial"] != c1["serial"] {
		t.Fatalf("catalog serial moved without a membership change")
	}
	s.Apply(nil, []string{"b.example."})
	c2 := cat()
	if c2["b.example."] != "" || c2["a.example."] != c1["a.example."] || !serialNewer(mustAtoi(c2["serial"]), mustAtoi(c1["serial"])) {
		t.Fatalf("after delete: %v, before %v", c2, c1)
	}
	for _, o := range s.Origins() {
		if o == "catalog.dadns.invalid." {
			t.Fatal("the catalog must not be listed among the served zones")
		}
	}
	// A pushed zone of the catalog's name is not served over it.
	s.Apply([]*Zone{xfrZone(t, "catalog.dadns.invalid.", 1, 1)}, nil)
	if c := cat(); c["version.catalog.dadns.invalid."] != "2" {
		t.Fatal("a pushed zone replaced the catalog")
	}
}

func mustAtoi(s string) uint32 {
	var n uint32
	fmt.Sscan(s, &n)
	return n
}

func TestNotifySentAndRetried(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var got atomic.Int64
	var lastSerial atomic.Uint32
	var signed atomic.Bool
	srv := &dns.Server{PacketConn: pc, TsigSecret: map[string]string{xfrKey: xfrSecret},
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			if r.Opcode != dns.OpcodeNotify {
				return
			}
			if r.IsTsig() != nil && w.TsigStatus() == nil {
				signed.Store(true)
			}
			if got.Add(1) == 1 {
				return // drop the first: the server must retry
			}
			if soa, ok := r.Answer[0].(*dns.SOA); ok {
				lastSerial.Store(soa.Serial)
			}
			m := new(dns.Msg)
			m.SetReply(r)
			if r.IsTsig() != nil {
				m.SetTsig(xfrKey, dns.HmacSHA256, 300, time.Now().Unix())
			}
			_ = w.WriteMsg(m)
		})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	s, _ := startXFR(t, TransferOptions{Notify: []string{pc.LocalAddr().String()}, NotifyKey: xfrKey})
	s.Apply([]*Zone{xfrZone(t, "n.example.", 42, 1)}, nil)
	deadline := time.Now().Add(20 * time.Second)
	for s.TransferStats().NotifyAcked == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("NOTIFY not acknowledged: %+v, received %d", s.TransferStats(), got.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.Load() < 2 || lastSerial.Load() != 42 || !signed.Load() {
		t.Fatalf("received %d NOTIFYs, serial %d, signed %v", got.Load(), lastSerial.Load(), signed.Load())
	}
}

// TestCatalogNotifyFollowedUp: a secondary that acknowledges the catalog's
// NOTIFY but does not fetch it is notified again, a bounded number of
// times; one that fetched the catalog is left alone. Member zones get no
// follow-ups.
func TestCatalogNotifyFollowedUp(t *testing.T) {
	saved := catalogFollowups
	catalogFollowups = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}
	t.Cleanup(func() { catalogFollowups = saved })

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var mu sync.Mutex
	got := map[string]int{}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Opcode != dns.OpcodeNotify {
			return
		}
		mu.Lock()
		got[r.Question[0].Name]++
		mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		_ = w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	const cat = "catalog.dadns.invalid."
	s, addr := startXFR(t, TransferOptions{Catalog: cat, Notify: []string{pc.LocalAddr().String()}})
	count := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		return got[name]
	}
	pending := func() int {
		s.xfr.notify.mu.Lock()
		defer s.xfr.notify.mu.Unlock()
		return len(s.xfr.notify.jobs)
	}
	waitIdle := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for pending() > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("NOTIFYs still pending: %d", pending())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The catalog's NOTIFY at start, never fetched: followed up too.
	waitIdle()
	if n := count(cat); n != 1+len(catalogFollowups) {
		t.Fatalf("catalog NOTIFYs at start to a secondary that never fetched it: %d, want %d", n, 1+len(catalogFollowups))
	}
	// A new member: the first NOTIFY and one per follow-up, then no more.
	mu.Lock()
	clear(got)
	mu.Unlock()
	s.Apply([]*Zone{xfrZone(t, "m1.example.", 1, 1)}, nil)
	waitIdle()
	if n := count(cat); n != 1+len(catalogFollowups) {
		t.Fatalf("catalog NOTIFYs to a secondary that never fetched it: %d, want %d", n, 1+len(catalogFollowups))
	}
	if n := count("m1.example."); n != 1 {
		t.Fatalf("member zone NOTIFYs: %d, want 1 (no follow-ups)", n)
	}

	// Fetched after the first NOTIFY: no follow-up goes out.
	s.xfr.notify.mu.Lock()
	s.xfr.notify.followups = []time.Duration{time.Second, time.Second}
	s.xfr.notify.mu.Unlock()
	before := count(cat)
	s.Apply([]*Zone{xfrZone(t, "m2.example.", 1, 1)}, nil)
	deadline := time.Now().Add(10 * time.Second)
	for count(cat) == before || pending() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("catalog NOTIFY not sent or not awaiting its fetch: %d sent, %d pending", count(cat)-before, pending())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := transfer(addr, cat, dns.TypeAXFR, 0, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if pending() != 0 {
		// m2's own NOTIFY was acknowledged at once; only the catalog's
		// follow-up could still wait, and the fetch retired it.
		t.Fatalf("a follow-up still waits after the secondary fetched the catalog")
	}
	time.Sleep(1500 * time.Millisecond) // past the first follow-up's time
	if n := count(cat) - before; n != 1 {
		t.Fatalf("catalog NOTIFYs after a fetch: %d, want 1", n)
	}
}
