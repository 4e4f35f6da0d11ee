package dnsserver

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// TestBatchAnswersAsSingle: the UDP loop's batched path (prefetch, then
// answerPrepared) gives every packet of a batch the same reply, byte for
// byte, as answering it alone (fastReplyInfo, then the full path), and
// tells RRL and the counts the same: for the bench's mix, names of more
// than eight labels, mixed case, DS at the apex of a child zone, queries
// the fast path declines (ANY, TCP-only types, no EDNS, DO), a packet
// that fills its buffer and one in no served zone. Twice: with the cache
// empty and filled.
func TestBatchAnswersAsSingle(t *testing.T) {
	zones := hostingZones(t, 30)
	zones = append(zones, mustZone(t, "sub.site1.example.", "$TTL 300\n@ SOA ns h 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.9\nwww A 192.0.2.10\n"))
	var pkts [][]byte
	pkts = append(pkts, hostingQueries(t, 30, 200)...)
	add := func(name string, qtype uint16, edns, do bool) {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		if edns {
			m.SetEdns0(1232, do)
		}
		p, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	deep := strings.Repeat("a.", 9) + "www.site2.example."
	add(deep, dns.TypeA, true, false)
	add("x."+deep, dns.TypeTXT, true, false)
	add("WwW.SiTe3.ExAmPlE.", dns.TypeA, true, false)
	add("sub.site1.example.", dns.TypeDS, true, false)
	add("sub.site1.example.", dns.TypeNS, true, false)
	add("www.sub.site1.example.", dns.TypeA, true, false)
	add("site4.example.", dns.TypeANY, true, false)
	add("site4.example.", dns.TypeAXFR, true, false)
	add("www.site5.example.", dns.TypeA, false, false)
	add("www.site5.example.", dns.TypeA, true, true)
	add("www.nowhere.test.", dns.TypeA, true, false)
	for _, cached := range []string{"empty", "filled"} {
		batched := New(Options{Logger: quietLogger(), ZoneCounts: true, MinimalANY: true})
		single := New(Options{Logger: quietLogger(), ZoneCounts: true, MinimalANY: true})
		batched.Apply(zones, nil)
		single.Apply(zones, nil)
		if cached == "filled" {
			for _, s := range []*Server{batched, single} {
				for _, p := range pkts {
					if _, ok := s.fastReplyInfo(s.snap.Load(), p, nil, nil, nil); !ok {
						s.slowReplyInfo(p, nil, nil, nil)
					}
				}
			}
		}
		l := newLoopBuffers(batched, false)
		sl := newLoopBuffers(single, false)
		msgs := make([]ipv4.Message, len(pkts)+1)
		for i, p := range pkts {
			buf := make([]byte, len(p)+1)
			copy(buf, p)
			msgs[i] = ipv4.Message{Buffers: [][]byte{buf}, N: len(p)}
		}
		full := pkts[0][:len(pkts[0]):len(pkts[0])] // fills its buffer: read as cut short
		msgs[len(pkts)] = ipv4.Message{Buffers: [][]byte{full}, N: len(full)}
		for start := 0; start < len(msgs); start += udpBatch {
			end := min(start+udpBatch, len(msgs))
			l.rx = msgs[start:end]
			l.prefetch(batched.snap.Load(), end-start)
			for i := range end - start {
				var info, want replyInfo
				got, gotOK := l.answerPrepared(batched.snap.Load(), i, nil, &info)
				exp, expOK := sl.answer(single.snap.Load(), &msgs[start+i], nil, &want)
				if gotOK != expOK || !bytes.Equal(got, exp) {
					m := new(dns.Msg)
					_ = m.Unpack(msgs[start+i].Buffers[0][:msgs[start+i].N])
					t.Fatalf("%s cache, packet %d (%v): batched %v %x, alone %v %x", cached, start+i, m.Question, gotOK, got, expOK, exp)
				}
				if info.zone != want.zone || info.exists != want.exists || (info.counter == nil) != (want.counter == nil) {
					t.Fatalf("%s cache, packet %d: RRL info %+v, alone %+v", cached, start+i, info, want)
				}
				if gotOK {
					l.observe(&msgs[start+i], got, time.Time{}, &info)
					sl.observe(&msgs[start+i], exp, time.Time{}, &want)
				}
			}
		}
		bt, _ := batched.ZoneTraffic(100)
		st, _ := single.ZoneTraffic(100)
		if fmt.Sprint(bt) != fmt.Sprint(st) {
			t.Fatalf("%s cache: counts differ: batched %v, alone %v", cached, bt, st)
		}
	}
}
