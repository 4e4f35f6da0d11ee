// Package dnsdiff asks two DNS servers the same questions and reports the
// replies that differ: the differential tests of dadns's servers against a
// real named use it.
package dnsdiff

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/namedtest"
)

// Zone is what probes are generated from: a zone's origin and records.
type Zone struct {
	Origin string // absolute
	RRs    []dns.RR
}

// variant is how a probe query is sent.
type Variant struct {
	Name  string
	edns  bool
	size  uint16
	do    bool
	rd    bool
	cd    bool
	tcp   bool
	mixed bool // the query name in random case
}

var (
	VPlain   = Variant{Name: "noedns"}
	VEDNS    = Variant{Name: "edns", edns: true, size: 1232}
	VDO      = Variant{Name: "do", edns: true, size: 4096, do: true}
	VRD      = Variant{Name: "rd", edns: true, size: 1232, rd: true, cd: true}
	VSmall   = Variant{Name: "edns512", edns: true, size: 512}
	VTiny    = Variant{Name: "edns0", edns: true, size: 0, do: true}
	VTCP     = Variant{Name: "tcp-do", edns: true, size: 512, do: true, tcp: true}
	VMixed   = Variant{Name: "mixedcase", edns: true, size: 1232, mixed: true}
	VMixedDO = Variant{Name: "mixedcase-do", edns: true, size: 1400, do: true, mixed: true}
)

// probe is one query of the differential test.
type Probe struct {
	Name  string
	QType uint16
	V     Variant
}

func (p Probe) String() string {
	return fmt.Sprintf("%s %s [%s]", p.Name, dns.TypeToString[p.QType], p.V.Name)
}

func (p Probe) Msg() *dns.Msg {
	m := new(dns.Msg)
	name := p.Name
	if p.V.mixed {
		name = mixCase(name)
	}
	m.SetQuestion(name, p.QType)
	m.RecursionDesired = p.V.rd
	m.CheckingDisabled = p.V.cd
	if p.V.edns {
		m.SetEdns0(p.V.size, p.V.do)
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
func Probes(zones []Zone) []Probe {
	var out []Probe
	for _, tz := range zones {
		signed := isSigned(tz)
		owned := ownedTypes(tz)
		for _, name := range ZoneNames(tz) {
			types := mergeTypes(baseTypes, owned[name])
			out = add(out, name, types, VEDNS, VPlain)
			out = add(out, name, []uint16{dns.TypeA, dns.TypeMX, dns.TypeNS, dns.TypeSOA, dns.TypeANY, dns.TypeTXT}, VRD, VSmall, VMixed)
			out = add(out, name, []uint16{dns.TypeA, dns.TypeTXT, dns.TypeANY}, VTCP, VTiny)
			if signed {
				out = add(out, name, types, VDO, VMixedDO)
			} else {
				out = add(out, name, []uint16{dns.TypeA, dns.TypeANY, dns.TypeDS}, VDO)
			}
			child := "x." + name
			if strings.HasPrefix(name, "*.") {
				child = "a.b." + name[2:]
			}
			out = add(out, child, childTypes, VEDNS, VPlain)
			if signed {
				out = add(out, child, childTypes, VDO)
			}
		}
		out = add(out, "nope."+tz.Origin, childTypes, VEDNS, VDO, VRD)
	}
	out = add(out, "nowhere.invalid.", []uint16{dns.TypeA}, VEDNS, VPlain)
	out = add(out, ".", []uint16{dns.TypeNS}, VEDNS)
	return out
}

func add(out []Probe, name string, types []uint16, vs ...Variant) []Probe {
	for _, v := range vs {
		for _, t := range types {
			out = append(out, Probe{Name: name, QType: t, V: v})
		}
	}
	return out
}

func isSigned(z Zone) bool {
	return slices.ContainsFunc(z.RRs, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeRRSIG })
}

func ownedTypes(z Zone) map[string][]uint16 {
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
func ZoneNames(z Zone) []string {
	origin := strings.ToLower(dns.Fqdn(z.Origin))
	seen := map[string]bool{}
	var out []string
	for _, rr := range z.RRs {
		for name := rr.Header().Name; !seen[name] && dns.IsSubDomain(origin, name); {
			seen[name] = true
			out = append(out, name)
			i, end := dns.NextLabel(name, 0)
			if end {
				break
			}
			name = name[i:]
		}
	}
	slices.Sort(out)
	return out
}

type Endpoints struct{ UDP, TCP string }

func (e Endpoints) Exchange(m *dns.Msg, tcp bool) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	addr := e.UDP
	if tcp {
		c.Net, addr = "tcp", e.TCP
	}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// compareAll sends every probe to both servers and returns the probes
// whose replies differ (beyond the known differences).
func CompareAll(ps []Probe, want, got Endpoints, known map[string]string) []string {
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		work     = make(chan Probe)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if f := compareOne(p, p.Msg(), want, got, known); f != "" {
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

func compareOne(p Probe, m *dns.Msg, want, got Endpoints, known map[string]string) string {
	tcp := p.V.tcp
	w, err := want.Exchange(m.Copy(), tcp)
	if err != nil {
		return fmt.Sprintf("%s: named: %v", p, err)
	}
	g, err := got.Exchange(m.Copy(), tcp)
	if err != nil {
		return fmt.Sprintf("%s: ours: %v", p, err)
	}
	d := namedtest.DiffAll(w, g)
	if len(d) == 0 { // ask again: the answer may now come from the cache
		if g, err = got.Exchange(m.Copy(), tcp); err != nil {
			return fmt.Sprintf("%s: ours, again: %v", p, err)
		}
		d = namedtest.DiffAll(w, g)
	}
	if len(d) == 0 {
		return ""
	}
	if _, ok := known[p.String()]; ok {
		return ""
	}
	return fmt.Sprintf("%s:\n  %s\n--- named:\n%s\n--- ours:\n%s", p, strings.Join(d, "\n  "), w, g)
}

// MinimalANYReason is why a server answering ANY minimally differs from
// BIND 9.18, which returns every RRset of the name.
const MinimalANYReason = "RFC 8482: ANY over UDP is answered with one RRset (or a synthesized HINFO), BIND 9.18 returns them all"

// MinimalANY checks the UDP ANY probes of ps against a server answering
// them minimally (RFC 8482): where BIND answers with records, ours must
// have its rcode and flags and exactly one of its RRsets (signatures
// aside), or the synthesized HINFO "RFC8482" "". Those probes are
// returned as known differences, for CompareAll to skip; every other probe
// (ANY over TCP, ANY that BIND answers without records) still has to
// match exactly there.
func MinimalANY(ps []Probe, want, got Endpoints) (known map[string]string, failures []string) {
	known = map[string]string{}
	for _, p := range ps {
		if p.QType != dns.TypeANY || p.V.tcp {
			continue
		}
		m := p.Msg()
		w, err := want.Exchange(m.Copy(), false)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: named: %v", p, err))
			continue
		}
		if len(w.Answer) == 0 && !w.Truncated {
			continue // NODATA, NXDOMAIN, a referral: compared as usual
		}
		g, err := got.Exchange(m.Copy(), false)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: ours: %v", p, err))
			continue
		}
		if len(namedtest.DiffAll(w, g)) == 0 {
			continue // the same answer (one RRset at the name, or truncated alike)
		}
		known[p.String()] = MinimalANYReason
		if f := checkMinimalANY(w, g); f != "" {
			failures = append(failures, fmt.Sprintf("%s: %s\n--- named:\n%s\n--- ours:\n%s", p, f, w, g))
		}
	}
	return known, failures
}

func checkMinimalANY(w, g *dns.Msg) string {
	if g.Rcode != w.Rcode || g.Authoritative != w.Authoritative {
		return "rcode or AA differs"
	}
	if g.Truncated && len(g.Answer) == 0 {
		return "" // even the one RRset does not fit: TC, as for any large answer
	}
	sets := map[uint16]bool{}
	for _, rr := range g.Answer {
		if t := rr.Header().Rrtype; t != dns.TypeRRSIG {
			sets[t] = true
		}
	}
	if len(sets) != 1 {
		return fmt.Sprintf("%d RRsets in the answer, want 1", len(sets))
	}
	if h, ok := g.Answer[0].(*dns.HINFO); ok && h.Cpu == "RFC8482" {
		return ""
	}
	if w.Truncated {
		return "" // BIND's full answer did not fit: nothing to compare with
	}
	have := map[string]bool{}
	for _, rr := range w.Answer {
		have[strings.ToLower(rr.String())] = true
	}
	for _, rr := range g.Answer {
		if !have[strings.ToLower(rr.String())] {
			return fmt.Sprintf("%s is not in BIND's answer", rr)
		}
	}
	return ""
}
