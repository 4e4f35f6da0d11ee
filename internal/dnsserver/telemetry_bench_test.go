package dnsserver

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// BenchmarkLoopTelemetry measures the UDP loop's work per packet (the
// answer and the telemetry hook) with per-zone counts and dnstap off and
// on, over 1,000 zones: cached answers only (the fast path), or half of
// them NXDOMAIN (the slow path).
func BenchmarkLoopTelemetry(b *testing.B) {
	b.Run("cached", func(b *testing.B) { benchLoopTelemetry(b, false) })
	b.Run("half-nxdomain", func(b *testing.B) { benchLoopTelemetry(b, true) })
}

func benchLoopTelemetry(b *testing.B, nx bool) {
	var set []*Zone
	var pkts [][]byte
	for i := range 1000 {
		o := fmt.Sprintf("zone%d.example.", i)
		set = append(set, mustZone(b, o, "$TTL 300\n@ SOA ns h 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.250\nwww A 192.0.2.1\n"))
		if i%50 == 0 {
			m := new(dns.Msg)
			m.SetQuestion("www."+o, dns.TypeA)
			m.SetEdns0(1232, false)
			p, _ := m.Pack()
			pkts = append(pkts, p)
			if nx {
				m.SetQuestion("nope."+o, dns.TypeA)
				p, _ = m.Pack()
				pkts = append(pkts, p)
			}
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	for _, mode := range []string{"off", "zonecounts", "dnstap-file", "both"} {
		b.Run(mode, func(b *testing.B) {
			opt := Options{Logger: quietLogger(), ZoneCounts: mode == "zonecounts" || mode == "both"}
			if mode == "dnstap-file" || mode == "both" {
				opt.Dnstap = &DnstapOptions{File: filepath.Join(b.TempDir(), "tap"), Queries: true, Responses: true}
			}
			s := New(opt)
			defer s.Close()
			s.Apply(set, nil)
			l := &udpLoop{s: s, pc: pc, key: make([]byte, 0, 260)}
			from := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}
			out := make([]byte, 0, 1024)
			msgs := make([]ipv4.Message, len(pkts))
			for i, p := range pkts {
				buf := make([]byte, udpRead)
				copy(buf, p)
				msgs[i] = ipv4.Message{Buffers: [][]byte{buf}, N: len(p), Addr: from}
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				m := &msgs[i%len(msgs)]
				info := &l.info // as in the loop: a local would escape
				*info = replyInfo{}
				o, ok := l.answer(s.snap.Load(), m, out, info)
				if ok {
					l.observe(m, o, now, info)
					out = o[:0]
				}
			}
			b.StopTimer()
			if st, ok := s.DnstapStats(); ok {
				b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
			}
		})
	}
}
