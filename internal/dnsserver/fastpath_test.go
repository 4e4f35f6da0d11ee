package dnsserver

import (
	"bytes"
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
)

// TestFastPathMatchesSlowPath checks that an answer served from the cache
// straight from the packet is byte for byte the answer the full path
// gives, for every name of the test zones in several query shapes.
func TestFastPathMatchesSlowPath(t *testing.T) {
	zones := loadTestZones(t)
	set := corpusZones(t, zones)
	cached := New(Options{Logger: quietLogger()})
	cached.Apply(set, nil)
	plain := New(Options{Logger: quietLogger(), CacheEntries: -1})
	plain.Apply(set, nil)
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
	hits := 0
	for _, tz := range zones {
		for _, name := range dnsdiff.ZoneNames(dnsdiff.Zone{Origin: tz.origin, RRs: tz.zone.RRs}) {
			for _, v := range []dnsdiff.Variant{dnsdiff.VPlain, dnsdiff.VEDNS, dnsdiff.VDO, dnsdiff.VRD, dnsdiff.VSmall, dnsdiff.VMixed} {
				for _, qt := range []uint16{dns.TypeA, dns.TypeMX, dns.TypeTXT, dns.TypeANY, dns.TypeNS} {
					pkt, err := dnsdiff.Probe{Name: name, QType: qt, V: v}.Msg().Pack()
					if err != nil {
						t.Fatal(err)
					}
					want, _ := plain.slowReply(pkt, from, nil)
					warm, _ := cached.slowReply(pkt, from, nil)
					if !bytes.Equal(warm, want) {
						t.Fatalf("%s %s [%s]: cached server's first answer differs", name, dns.TypeToString[qt], v.Name)
					}
					got, ok := cached.fastReply(cached.snap.Load(), pkt, nil, nil)
					if !ok {
						continue // not cached (too big for the client)
					}
					hits++
					if !bytes.Equal(got, want) {
						t.Errorf("%s %s [%s]: fast answer differs from the full path", name, dns.TypeToString[qt], v.Name)
					}
				}
			}
		}
	}
	if hits == 0 {
		t.Fatal("the fast path answered nothing")
	}
}

func TestParseFastRejects(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	base := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.example.org.", dns.TypeA)
		return m
	}
	tests := []struct {
		name string
		m    func() *dns.Msg
		ok   bool
	}{
		{"plain", base, true},
		{"EDNS with a cookie", func() *dns.Msg {
			m := base()
			m.SetEdns0(1232, true)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}
			return m
		}, true},
		{"EDNS client subnet", func() *dns.Msg {
			m := base()
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.IPv4(192, 0, 2, 0)}}
			return m
		}, false},
		{"EDNS version 1", func() *dns.Msg { m := base(); m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1); return m }, false},
		{"response", func() *dns.Msg { m := base(); m.Response = true; return m }, false},
		{"opcode NOTIFY", func() *dns.Msg { m := base(); m.Opcode = dns.OpcodeNotify; return m }, false},
		{"class CH", func() *dns.Msg { m := base(); m.Question[0].Qclass = dns.ClassCHAOS; return m }, false},
		{"AXFR", func() *dns.Msg { m := base(); m.Question[0].Qtype = dns.TypeAXFR; return m }, false},
		{"two questions", func() *dns.Msg { m := base(); m.Question = append(m.Question, m.Question[0]); return m }, false},
		{"answer record", func() *dns.Msg {
			m := base()
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(192, 0, 2, 1)}}
			return m
		}, false},
	}
	for _, tt := range tests {
		pkt, err := tt.m().Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := s.parseFast(pkt, nil); ok != tt.ok {
			t.Errorf("%s: parseFast ok = %v, want %v", tt.name, ok, tt.ok)
		}
	}
	if _, _, ok := s.parseFast([]byte{0, 1, 0}, nil); ok {
		t.Error("a 3-byte packet parsed")
	}
}

func TestSlowReplyMalformed(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	pkt, _ := dnsdiff.Probe{Name: "www.example.org.", QType: dns.TypeA, V: dnsdiff.VEDNS}.Msg().Pack()
	out, ok := s.slowReply(pkt[:len(pkt)-3], nil, nil)
	if !ok {
		t.Fatal("no reply to a cut-short query")
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil || r.Rcode != dns.RcodeFormatError || !r.Response {
		t.Fatalf("reply %v (%v), want FORMERR", r, err)
	}
	pkt[2] |= 0x80 // a response: no reply at all
	if _, ok := s.slowReply(pkt, nil, nil); ok {
		t.Fatal("answered a response")
	}
}
