package dnsserver

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/namedtest"
)

// knownDifferences are answers where we deliberately differ from BIND,
// keyed by probe text; each says why.
var knownDifferences = map[string]string{
	"cn.big.test. TXT [mixedcase]": "BIND compresses names case-sensitively, so its " +
		"answer to a mixed-case question is larger and drops the last AAAA from the " +
		"additional section; we compress case-insensitively and it fits",
}

func TestDifferentialBIND(t *testing.T) {
	zones := loadTestZones(t)
	texts := map[string]string{}
	var set []*Zone
	for _, tz := range zones {
		texts[strings.TrimSuffix(tz.origin, ".")] = tz.text
		set = append(set, tz.zone)
	}
	named := namedtest.Start(t, texts)
	srv := New(Options{Logger: quietLogger()})
	srv.Apply(set, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ours := dnsdiff.Endpoints{UDP: udp.String(), TCP: tcp.String()}
	theirs := dnsdiff.Endpoints{UDP: named.Addr, TCP: named.Addr}
	ps := dnsdiff.Probes(diffZones(zones))
	failures := dnsdiff.CompareAll(ps, theirs, ours, knownDifferences)
	t.Logf("%d probes, %d differences", len(ps), len(failures))
	if out := os.Getenv("DNSSERVER_DIFF_OUT"); out != "" {
		_ = os.WriteFile(out, []byte(strings.Join(failures, "\n")), 0o644)
	}
	for i, f := range failures {
		if i == 40 {
			t.Errorf("... and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}

	// With minimal ANY (as dadns ships it): the UDP ANY probes BIND
	// answers with records differ by RFC 8482 and are checked for one of
	// BIND's RRsets; every other probe must still match exactly.
	minimal := New(Options{Logger: quietLogger(), MinimalANY: true})
	minimal.Apply(set, nil)
	mudp, mtcp, err := minimal.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mine := dnsdiff.Endpoints{UDP: mudp.String(), TCP: mtcp.String()}
	var anyProbes []dnsdiff.Probe
	for _, p := range ps {
		if p.QType == dns.TypeANY {
			anyProbes = append(anyProbes, p)
		}
	}
	known, fails := dnsdiff.MinimalANY(anyProbes, theirs, mine)
	for k, v := range knownDifferences {
		known[k] = v
	}
	fails = append(fails, dnsdiff.CompareAll(anyProbes, theirs, mine, known)...)
	t.Logf("minimal ANY: %d ANY probes, %d answered minimally (RFC 8482), %d failures", len(anyProbes), len(known)-len(knownDifferences), len(fails))
	for i, f := range fails {
		if i == 20 {
			t.Errorf("... and %d more", len(fails)-i)
			break
		}
		t.Error(f)
	}
}

// knownProtocolDifferences are protocol probes where we deliberately
// answer unlike BIND 9.18.
var knownProtocolDifferences = map[string]string{
	"opcode NOTIFY": "only QUERY is implemented: NOTIMP (BIND, a primary, answers NOTIFY)",
	"opcode UPDATE": "only QUERY is implemented: NOTIMP (BIND refuses the update)",
	"AXFR over TCP": "zone transfers are refused (BIND 9.18 allows them by default)",
}

func TestProtocolBIND(t *testing.T) {
	tz := testZone{origin: "example.org."}
	b, err := os.ReadFile("testdata/zones/example.org.db")
	if err != nil {
		t.Fatal(err)
	}
	tz.text = string(b)
	tz.zone = mustZone(t, tz.origin, tz.text)
	named := namedtest.Start(t, map[string]string{"example.org": tz.text})
	srv := New(Options{Logger: quietLogger()})
	srv.Apply([]*Zone{tz.zone}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ours := dnsdiff.Endpoints{UDP: udp.String(), TCP: tcp.String()}
	theirs := dnsdiff.Endpoints{UDP: named.Addr, TCP: named.Addr}
	for _, p := range protocolProbes() {
		t.Run(p.desc, func(t *testing.T) {
			w, err := theirs.Exchange(p.m.Copy(), p.tcp)
			if err != nil {
				t.Fatalf("named: %v", err)
			}
			g, err := ours.Exchange(p.m.Copy(), p.tcp)
			if err != nil {
				t.Fatalf("ours: %v", err)
			}
			d := namedtest.DiffAll(w, g)
			if why, ok := knownProtocolDifferences[p.desc]; ok {
				if len(d) == 0 {
					t.Errorf("listed as a known difference (%s) but answers match", why)
				}
				return
			}
			for _, line := range d {
				t.Error(line)
			}
			if t.Failed() {
				t.Logf("named:\n%s\nours:\n%s", w, g)
			}
		})
	}
}

// protoProbe is a hand-made query testing protocol handling.
type protoProbe struct {
	desc string
	m    *dns.Msg
	tcp  bool
}

func protocolProbes() []protoProbe {
	q := func(name string, t uint16, f func(*dns.Msg)) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, t)
		m.RecursionDesired = false
		if f != nil {
			f(m)
		}
		return m
	}
	edns := func(m *dns.Msg) { m.SetEdns0(1232, false) }
	return []protoProbe{
		{desc: "opcode STATUS", m: q("example.org.", dns.TypeA, func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus; edns(m) })},
		{desc: "opcode NOTIFY", m: q("example.org.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify; m.Authoritative = true })},
		{desc: "opcode UPDATE", m: q("example.org.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate })},
		{desc: "class CH", m: q("example.org.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })},
		{desc: "class HS", m: q("example.org.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassHESIOD; edns(m) })},
		{desc: "class ANY", m: q("example.org.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY })},
		{desc: "EDNS version 1", m: q("example.org.", dns.TypeA, func(m *dns.Msg) { edns(m); m.IsEdns0().SetVersion(1) })},
		{desc: "EDNS unknown option", m: q("example.org.", dns.TypeA, func(m *dns.Msg) {
			edns(m)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2}})
		})},
		{desc: "EDNS unknown flag", m: q("example.org.", dns.TypeA, func(m *dns.Msg) { edns(m); m.IsEdns0().Hdr.Ttl |= 0x4000 })},
		{desc: "question count 0", m: q("example.org.", dns.TypeA, func(m *dns.Msg) { m.Question = nil; edns(m) })},
		{desc: "type OPT", m: q("example.org.", dns.TypeOPT, edns)},
		{desc: "type TKEY", m: q("example.org.", dns.TypeTKEY, nil)},
		{desc: "type MAILB", m: q("example.org.", dns.TypeMAILB, edns)},
		{desc: "type 0", m: q("example.org.", 0, nil)},
		{desc: "type 65280", m: q("www.example.org.", 65280, edns)},
		{desc: "AXFR over TCP", m: q("example.org.", dns.TypeAXFR, nil), tcp: true},
		{desc: "IXFR over TCP", m: q("example.org.", dns.TypeIXFR, func(m *dns.Msg) {
			m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Serial: 1}}
		}), tcp: true},
		{desc: "AD bit", m: q("www.example.org.", dns.TypeA, func(m *dns.Msg) { m.AuthenticatedData = true; edns(m) })},
		{desc: "refused zone", m: q("www.example.com.", dns.TypeA, edns)},
		{desc: "refused root", m: q(".", dns.TypeSOA, nil)},
	}
}

// diffZones turns the test zones into dnsdiff's input.
func diffZones(zones []testZone) []dnsdiff.Zone {
	out := make([]dnsdiff.Zone, len(zones))
	for i, tz := range zones {
		out[i] = dnsdiff.Zone{Origin: tz.origin, RRs: tz.zone.RRs}
	}
	return out
}
