package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rrlServer serves example.test. on 127.0.0.1 with RRL opt.
func rrlServer(t *testing.T, opt RRLOptions) (*Server, int) {
	t.Helper()
	s := New(Options{Logger: quietLogger(), RRL: &opt})
	s.Apply([]*Zone{mustZone(t, "example.test.", `$TTL 300
@ SOA ns.example.test. h.example.test. 1 3600 600 86400 300
@ NS ns
ns A 192.0.2.250
@ A 192.0.2.1
www A 192.0.2.2
*.wild A 192.0.2.3
`)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	udp, _, err := s.Listen(ctx, "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	return s, udp.(*net.UDPAddr).Port
}

// floodResult counts the replies to a burst.
type floodResult struct{ sent, full, tc int }

// flood sends n queries (name(i), type A) from the loopback address from
// to 127.0.0.1:port as fast as it can and counts the replies.
func flood(t *testing.T, from string, port, n int, name func(i int) string) floodResult {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(from)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadBuffer(4 << 20)
	res := floodResult{sent: n}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			k, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r := new(dns.Msg)
			if r.Unpack(buf[:k]) != nil {
				continue
			}
			if r.Truncated {
				res.tc++
			} else {
				res.full++
			}
		}
	}()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	for i := range n {
		m := new(dns.Msg)
		m.SetQuestion(name(i), dns.TypeA)
		m.Id = uint16(i)
		pkt, _ := m.Pack()
		if _, err := c.WriteToUDP(pkt, to); err != nil {
			t.Fatal(err)
		}
		if i%64 == 63 {
			time.Sleep(time.Millisecond) // stay within the socket buffers
		}
	}
	<-done
	return res
}

func same(string) func(int) string { return func(int) string { return "www.example.test." } }

// TestRRLFloodLimitedOthersAnswered: a flood of identical queries from
// 127.0.0.1 is limited with slip 2 (every second limited answer goes out
// with TC=1), while 127.0.1.2, another /24, asking the same name at a
// normal rate is answered every time, and TCP from the flooding address
// is answered too.
func TestRRLFloodLimitedOthersAnswered(t *testing.T) {
	s, port := rrlServer(t, RRLOptions{ResponsesPerSecond: 20, Slip: 2, Window: 5})
	quiet := make(chan [2]int, 1)
	go func() {
		ok, asked := 0, 0
		c := &dns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.1.2")}}}
		for range 10 {
			m := new(dns.Msg)
			m.SetQuestion("www.example.test.", dns.TypeA)
			asked++
			if r, _, err := c.Exchange(m, fmt.Sprintf("127.0.0.1:%d", port)); err == nil && !r.Truncated && len(r.Answer) == 1 {
				ok++
			}
			time.Sleep(100 * time.Millisecond)
		}
		quiet <- [2]int{ok, asked}
	}()
	res := flood(t, "127.0.0.1", port, 3000, same(""))
	st, _ := s.RRLStats()
	q := <-quiet
	t.Logf("flood: sent %d, full answers %d, TC %d (%.0f%% of replies); server: limited %d slipped %d dropped %d; 127.0.1.2: %d/%d answered",
		res.sent, res.full, res.tc, 100*float64(res.tc)/float64(max(1, res.full+res.tc)), st.Limited, st.Slipped, st.Dropped, q[0], q[1])
	if res.full > 20*5 {
		t.Errorf("%d full answers to the flood, want about 20 a second", res.full)
	}
	if st.Limited < uint64(res.sent/2) || st.Slipped+st.Dropped != st.Limited {
		t.Errorf("stats %+v for %d queries", st, res.sent)
	}
	if d := int64(st.Slipped) - int64(st.Limited/2); d < -1 || d > 1 {
		t.Errorf("slip 2: %d slipped of %d limited", st.Slipped, st.Limited)
	}
	if res.tc == 0 || res.tc > int(st.Slipped) {
		t.Errorf("client saw %d truncated replies, server slipped %d", res.tc, st.Slipped)
	}
	if q[0] != q[1] {
		t.Errorf("127.0.1.2 got %d of %d answers during the flood", q[0], q[1])
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	for range 30 { // TCP is never limited
		r, _, err := c.Exchange(m, fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("TCP from the flooding address: %v %v", r, err)
		}
	}
}

func TestRRLExemptPrefix(t *testing.T) {
	s, port := rrlServer(t, RRLOptions{ResponsesPerSecond: 5, Slip: 2, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/24")}})
	res := flood(t, "127.0.0.1", port, 300, same(""))
	st, _ := s.RRLStats()
	if res.tc != 0 || st.Limited != 0 || res.full < 290 {
		t.Fatalf("exempt prefix limited: %+v, %+v", res, st)
	}
}

func TestRRLLogOnly(t *testing.T) {
	s, port := rrlServer(t, RRLOptions{ResponsesPerSecond: 5, Slip: 2, LogOnly: true})
	res := flood(t, "127.0.0.1", port, 300, same(""))
	st, _ := s.RRLStats()
	if res.tc != 0 || st.Limited < 200 || st.Dropped != 0 || res.full < 290 {
		t.Fatalf("log-only: %+v, %+v", res, st)
	}
}

// TestRRLRandomSubdomains: NXDOMAIN answers for distinct random names of
// one zone share the zone's bucket, and so do wildcard answers.
func TestRRLRandomSubdomains(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(i int) string
	}{
		{"nxdomain", func(i int) string { return fmt.Sprintf("r%d-x.example.test.", i) }},
		{"wildcard", func(i int) string { return fmt.Sprintf("r%d.wild.example.test.", i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, port := rrlServer(t, RRLOptions{ResponsesPerSecond: 10, Slip: 0, Window: 5})
			res := flood(t, "127.0.0.1", port, 1000, tc.f)
			st, _ := s.RRLStats()
			t.Logf("%+v %+v", res, st)
			if res.full > 10*5 || st.Limited < 900 || res.tc != 0 {
				t.Fatalf("random names not limited as one bucket: %+v %+v", res, st)
			}
		})
	}
}

// TestRRLTableBounded: a million distinct buckets leave the table at its
// size, and it still limits a flood afterwards.
func TestRRLTableBounded(t *testing.T) {
	r := newRRL(RRLOptions{ResponsesPerSecond: 5, TableSize: 4096})
	capacity := r.capacity()
	if capacity > 4096 || capacity < 2048 {
		t.Fatalf("capacity %d for TableSize 4096", capacity)
	}
	p := netip.MustParsePrefix("192.0.2.0/24")
	var scratch []byte
	var k uint64
	name := []byte("\x07n000000\x04test\x00")
	for i := range 1_000_000 {
		for j, v := 7, i; j >= 2; j, v = j-1, v/10 {
			name[j] = byte('0' + v%10)
		}
		k, scratch = r.key(p, rrlAnswer, 1, name, scratch)
		r.check(1000, k)
	}
	used := 0
	for i := range r.shards {
		if len(r.shards[i].entries) != int(r.sets)*rrlWays {
			t.Fatal("shard grew")
		}
		for _, e := range r.shards[i].entries {
			if e.key != 0 {
				used++
			}
		}
	}
	if used > capacity {
		t.Fatalf("%d buckets used of %d", used, capacity)
	}
	k, _ = r.key(p, rrlNXDomain, 0, []byte("\x04test\x00"), scratch)
	limited := 0
	for range 100 {
		if act, _ := r.check(1001, k); act != rrlSend {
			limited++
		}
	}
	if limited != 95 {
		t.Fatalf("after a million names, %d of 100 limited, want 95", limited)
	}
}

func TestSlipReply(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.SetEdns0(1232, true)
	m.RecursionDesired = true
	pkt, _ := m.Pack()
	out, ok := slipReply(pkt, nil, nil)
	if !ok {
		t.Fatal("no slip reply")
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatal(err)
	}
	if !r.Response || !r.Truncated || r.Id != m.Id || len(r.Question) != 1 || len(r.Answer)+len(r.Ns)+len(r.Extra) != 0 || !r.RecursionDesired {
		t.Fatalf("slip reply %v", r)
	}
}
