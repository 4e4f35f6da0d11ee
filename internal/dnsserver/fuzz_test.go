package dnsserver

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// FuzzQuery feeds arbitrary packets to the UDP answer paths (the cached
// fast path, then the full one) over the test corpus: no panic, and every
// reply is a well-formed response to the query's ID.
func FuzzQuery(f *testing.F) {
	set := corpusZones(f, loadTestZones(f))
	s := New(Options{Logger: quietLogger()})
	s.Apply(set, nil)
	for _, q := range []struct {
		name  string
		qtype uint16
		do    bool
	}{
		{"www.example.org.", dns.TypeA, false}, {"x.wild.test.", dns.TypeTXT, true},
		{"deleg.test.", dns.TypeDS, true}, {"nowhere.invalid.", dns.TypeANY, false},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, q.do)
		pkt, _ := m.Pack()
		f.Add(pkt)
	}
	f.Add([]byte{0, 1, 0})
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		snap := s.snap.Load()
		out, ok := s.fastReply(snap, pkt, nil, nil)
		if !ok {
			out, ok = s.slowReply(pkt, from, nil)
		}
		if !ok {
			return
		}
		r := new(dns.Msg)
		if err := r.Unpack(out); err != nil {
			t.Fatalf("reply does not unpack: %v", err)
		}
		if !r.Response || len(pkt) < 2 || r.Id != uint16(pkt[0])<<8|uint16(pkt[1]) {
			t.Fatalf("reply is not a response to this query: %v", r.MsgHdr)
		}
	})
}
