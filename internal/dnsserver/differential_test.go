package dnsserver

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/namedtest"
)

// variant is how a probe query is sent.
type variant struct {
	name  string
	edns  bool
	size  uint16
	do    bool
	rd    bool
	cd    bool
	tcp   bool
	mixed bool // the query name in random case
}

var (
	vPlain   = variant{name: "noedns"}
	vEDNS    = variant{name: "edns", edns: true, size: 1232}
	vDO      = variant{name: "do", edns: true, size: 4096, do: true}
	vRD      = variant{name: "rd", edns: true, size: 1232, rd: true, cd: true}
	vSmall   = variant{name: "edns512", edns: true, size: 512}
	vTiny    = variant{name: "edns0", edns: true, size: 0, do: true}
	vTCP     = variant{name: "tcp-do", edns: true, size: 512, do: true, tcp: true}
	vMixed   = variant{name: "mixedcase", edns: true, size: 1232, mixed: true}
	vMixedDO = variant{name: "mixedcase-do", edns: true, size: 1400, do: true, mixed: true}
)

// probe is one query of the differential test.
type probe struct {
	name  string
	qtype uint16
	v     variant
}

func (p probe) String() string {
	return fmt.Sprintf("%s %s [%s]", p.name, dns.TypeToString[p.qtype], p.v.name)
}

func (p probe) msg() *dns.Msg {
	m := new(dns.Msg)
	name := p.name
	if p.v.mixed {
		name = mixCase(name)
	}
	m.SetQuestion(name, p.qtype)
	m.RecursionDesired = p.v.rd
	m.CheckingDisabled = p.v.cd
	if p.v.edns {
		m.SetEdns0(p.v.size, p.v.do)
	}
	return m
}

// mixCase upper-cases every other letter.
func mixCase(s string) string {
	b := []byte(s)
	up := true
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			if up {
				b[i] = c - 'a' + 'A'
			}
			up = !up
		}
	}
	return string(b)
}

// baseTypes are asked at every name besides the types the name owns.
var baseTypes = []uint16{
	dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeNS, dns.TypeSOA,
	dns.TypeDS, dns.TypeCNAME, dns.TypeANY, dns.TypeRRSIG, dns.TypeNSEC,
	dns.TypeDNSKEY, dns.TypeSRV, dns.TypePTR,
}

// childTypes are asked at names that do not exist (under each name).
var childTypes = []uint16{dns.TypeA, dns.TypeTXT, dns.TypeMX, dns.TypeDS, dns.TypeANY, dns.TypeNS}

// probes lists every query of the differential test for the zones.
func probes(zones []testZone) []probe {
	var out []probe
	for _, tz := range zones {
		signed := isSigned(tz.zone)
		owned := ownedTypes(tz.zone)
		for _, name := range zoneNames(tz.zone) {
			types := mergeTypes(baseTypes, owned[name])
			out = add(out, name, types, vEDNS, vPlain)
			out = add(out, name, []uint16{dns.TypeA, dns.TypeMX, dns.TypeNS, dns.TypeSOA, dns.TypeANY, dns.TypeTXT}, vRD, vSmall, vMixed)
			out = add(out, name, []uint16{dns.TypeA, dns.TypeTXT, dns.TypeANY}, vTCP, vTiny)
			if signed {
				out = add(out, name, types, vDO, vMixedDO)
			} else {
				out = add(out, name, []uint16{dns.TypeA, dns.TypeANY, dns.TypeDS}, vDO)
			}
			child := "x." + name
			if strings.HasPrefix(name, "*.") {
				child = "a.b." + name[2:]
			}
			out = add(out, child, childTypes, vEDNS, vPlain)
			if signed {
				out = add(out, child, childTypes, vDO)
			}
		}
		out = add(out, "nope."+tz.origin, childTypes, vEDNS, vDO, vRD)
	}
	out = add(out, "nowhere.invalid.", []uint16{dns.TypeA}, vEDNS, vPlain)
	out = add(out, ".", []uint16{dns.TypeNS}, vEDNS)
	return out
}

func add(out []probe, name string, types []uint16, vs ...variant) []probe {
	for _, v := range vs {
		for _, t := range types {
			out = append(out, probe{name: name, qtype: t, v: v})
		}
	}
	return out
}

func isSigned(z *Zone) bool {
	return slices.ContainsFunc(z.RRs, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeRRSIG })
}

func ownedTypes(z *Zone) map[string][]uint16 {
	out := map[string][]uint16{}
	for _, rr := range z.RRs {
		h := rr.Header()
		if !slices.Contains(out[h.Name], h.Rrtype) {
			out[h.Name] = append(out[h.Name], h.Rrtype)
		}
	}
	return out
}

func mergeTypes(a, b []uint16) []uint16 {
	out := slices.Clone(a)
	for _, t := range b {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// zoneNames lists the owners of z and the empty non-terminals above them.
func zoneNames(z *Zone) []string {
	origin := lower(dns.Fqdn(z.Origin))
	seen := map[string]bool{}
	var out []string
	for _, rr := range z.RRs {
		for name := rr.Header().Name; !seen[name] && isBelow(name, origin); {
			seen[name] = true
			out = append(out, name)
			p, ok := parentName(name)
			if !ok {
				break
			}
			name = p
		}
	}
	slices.Sort(out)
	return out
}

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
	ours := endpoints{udp: udp.String(), tcp: tcp.String()}
	theirs := endpoints{udp: named.Addr, tcp: named.Addr}
	ps := probes(zones)
	failures := compareAll(ps, theirs, ours)
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
}

type endpoints struct{ udp, tcp string }

func (e endpoints) exchange(m *dns.Msg, tcp bool) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	addr := e.udp
	if tcp {
		c.Net, addr = "tcp", e.tcp
	}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// compareAll sends every probe to both servers and returns the probes
// whose replies differ (beyond the known differences).
func compareAll(ps []probe, want, got endpoints) []string {
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		work     = make(chan probe)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if f := compareOne(p, p.msg(), want, got); f != "" {
					mu.Lock()
					failures = append(failures, f)
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range ps {
		work <- p
	}
	close(work)
	wg.Wait()
	slices.Sort(failures)
	return failures
}

func compareOne(p probe, m *dns.Msg, want, got endpoints) string {
	tcp := p.v.tcp
	w, err := want.exchange(m.Copy(), tcp)
	if err != nil {
		return fmt.Sprintf("%s: named: %v", p, err)
	}
	g, err := got.exchange(m.Copy(), tcp)
	if err != nil {
		return fmt.Sprintf("%s: ours: %v", p, err)
	}
	d := namedtest.DiffAll(w, g)
	if len(d) == 0 { // ask again: the answer may now come from the cache
		if g, err = got.exchange(m.Copy(), tcp); err != nil {
			return fmt.Sprintf("%s: ours, again: %v", p, err)
		}
		d = namedtest.DiffAll(w, g)
	}
	if len(d) == 0 {
		return ""
	}
	if _, ok := knownDifferences[p.String()]; ok {
		return ""
	}
	return fmt.Sprintf("%s:\n  %s\n--- named:\n%s\n--- ours:\n%s", p, strings.Join(d, "\n  "), w, g)
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
	ours := endpoints{udp: udp.String(), tcp: tcp.String()}
	theirs := endpoints{udp: named.Addr, tcp: named.Addr}
	for _, p := range protocolProbes() {
		t.Run(p.desc, func(t *testing.T) {
			w, err := theirs.exchange(p.m.Copy(), p.tcp)
			if err != nil {
				t.Fatalf("named: %v", err)
			}
			g, err := ours.exchange(p.m.Copy(), p.tcp)
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
