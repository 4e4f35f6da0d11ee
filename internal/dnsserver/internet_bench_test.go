package dnsserver

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// BenchmarkLoopPacket measures one UDP loop's work per packet (answer,
// RRL, cookies), without the sockets, with the features off and on.
func BenchmarkLoopPacket(b *testing.B) {
	text := "$TTL 300\n@ SOA ns.example.test. h.example.test. 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.250\n"
	for i := range 20 {
		text += fmt.Sprintf("n%d A 192.0.2.%d\n", i, i+10)
	}
	z := mustZone(b, "example.test.", text)
	var pkts [][]byte
	for i := range 20 {
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("n%d.example.test.", i), dns.TypeA)
		m.SetEdns0(1232, false)
		p, _ := m.Pack()
		pkts = append(pkts, p)
		m.SetQuestion(fmt.Sprintf("x%d.example.test.", i), dns.TypeA)
		p, _ = m.Pack()
		pkts = append(pkts, p)
	}
	for _, mode := range []string{"off", "rrl", "cookies", "defaults"} {
		b.Run(mode, func(b *testing.B) {
			opt := Options{Logger: quietLogger()}
			if mode == "rrl" || mode == "defaults" {
				opt.RRL = &RRLOptions{ResponsesPerSecond: 1e7}
			}
			if mode == "cookies" || mode == "defaults" {
				opt.Cookies = &CookieOptions{}
			}
			if mode == "defaults" {
				opt.MinimalANY = true
			}
			s := New(opt)
			s.Apply([]*Zone{z}, nil)
			l := &udpLoop{s: s, key: make([]byte, 0, 260)}
			from := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}
			out := make([]byte, 0, 1024)
			msgs := make([]ipv4.Message, len(pkts))
			for i, p := range pkts {
				buf := make([]byte, udpRead)
				copy(buf, p)
				msgs[i] = ipv4.Message{Buffers: [][]byte{buf}, N: len(p), Addr: from}
			}
			now := time.Now().Unix()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				m := &msgs[i%len(msgs)]
				info := &l.info // as in the loop: a local would escape
				*info = replyInfo{}
				var ck queryCookieInfo
				if s.cookies != nil {
					ck = s.readCookie(m, now)
				}
				o, ok := l.answer(s.snap.Load(), m, out, info)
				if ok && s.rrl != nil {
					o, ok = l.limit(now, m, o, info, &ck)
				}
				if ok {
					out = o[:0]
				}
			}
		})
	}
}
