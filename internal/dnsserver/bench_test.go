package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkServeDNS measures one query from its packed form to the packed
// reply, as the listener does it: unpack, answer, pack, write.
func BenchmarkServeDNS(b *testing.B) {
	set := corpusZones(b, loadTestZones(b))
	cases := []struct {
		name  string
		qname string
		qtype uint16
		do    bool
	}{
		{"positive", "www.example.org.", dns.TypeA, false},
		{"mx-additional", "example.net.", dns.TypeMX, false},
		{"cname-chain", "a.cname.test.", dns.TypeA, false},
		{"wildcard", "random.wild.test.", dns.TypeA, false},
		{"nxdomain", "nope.example.org.", dns.TypeA, false},
		{"referral", "www.sub.deleg.test.", dns.TypeA, false},
		{"dnssec-nxdomain", "nope.signed.test.", dns.TypeA, true},
		{"nsec3-nxdomain", "nope.nsec3.test.", dns.TypeA, true},
	}
	for _, cache := range []struct {
		name    string
		entries int
	}{{"cache", 0}, {"nocache", -1}} {
		s := New(Options{Logger: quietLogger(), CacheEntries: cache.entries})
		s.Apply(set, nil)
		for _, c := range cases {
			q := new(dns.Msg)
			q.SetQuestion(c.qname, c.qtype)
			q.SetEdns0(1232, c.do)
			wire, err := q.Pack()
			if err != nil {
				b.Fatal(err)
			}
			b.Run(cache.name+"/"+c.name, func(b *testing.B) {
				var w recorder
				b.ReportAllocs()
				for b.Loop() {
					r := new(dns.Msg)
					if err := r.Unpack(wire); err != nil {
						b.Fatal(err)
					}
					s.ServeDNS(&w, r)
				}
			})
		}
	}
}

// BenchmarkFastReply measures the UDP loop's answer to a cached name:
// packet in, packet out, no dns.Msg.
func BenchmarkFastReply(b *testing.B) {
	set := corpusZones(b, loadTestZones(b))
	s := New(Options{Logger: quietLogger()})
	s.Apply(set, nil)
	q := new(dns.Msg)
	q.SetQuestion("WWW.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	pkt, err := q.Pack()
	if err != nil {
		b.Fatal(err)
	}
	if _, ok := s.slowReply(pkt, nil, nil); !ok {
		b.Fatal("no answer")
	}
	snap := s.snap.Load()
	key, out := make([]byte, 0, 260), make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if out, ok = s.fastReply(snap, pkt, key, out); !ok {
			b.Fatal("not served from the cache")
		}
	}
}
