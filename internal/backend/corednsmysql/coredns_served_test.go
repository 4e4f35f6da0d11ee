package corednsmysql

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/corednstest"
	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/zone"
)

// Plugin differences: answers where CoreDNS with the mysql plugin, on the
// rows dadns wrote, gives another positive answer than named loading the
// original file. Each is the plugin's own (the rows hold the records).
const (
	pluginDNSSEC   = "DNSSEC: no RRSIG, NSEC, NSEC3, DNSKEY or NSEC3PARAM records (dadns does not write them; the plugin cannot sign or serve them)"
	pluginCNAME    = "CNAME chains: the plugin answers the CNAME alone, without the records of its target in the same zone (RFC 1034 §4.3.2 step 3a says follow it)"
	pluginWildcard = "wildcards deeper than one label: a name two or more labels below *.<parent> gets no wildcard answer (RFC 4592 §2.1.1)"
	pluginANY      = "ANY: the plugin answers with a different set of records"
	pluginDNAME    = "DNAME: the plugin does not synthesise the CNAME of a name below a DNAME (RFC 6672 §2.2)"
	pluginCut      = "delegations: a name at or below a zone cut gets an authoritative answer instead of a referral (RFC 1034 §4.3.2 step 3b)"
)

// TestCoreDNSServesLikeNamed writes the differential corpus as rows, starts
// the CoreDNS of the image (built with the pinned plugin) on them and a
// named on the original files, and compares every positive answer of
// named (NOERROR with records) with CoreDNS's: rcode, AA and the answer
// section. Every difference must fall in one of the plugin's documented
// limits (the README lists them with these counts).
func TestCoreDNSServesLikeNamed(t *testing.T) {
	namedtest.Require(t)
	corednstest.Build(t) // skips when CoreDNS cannot be built here
	f := newFixture(t)
	texts, zones := corpus(t)
	if err := f.b.Apply(testCtx(t), zones); err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", mariadbtest.User, f.srv.Password, f.srv.Addr(), f.db)
	cd := corednstest.Start(t, dsn, freeDNSPort(t))
	named := namedtest.Start(t, texts)
	var dz []dnsdiff.Zone
	for _, z := range zones {
		dz = append(dz, dnsdiff.Zone{Origin: z.Name.FQDN(), RRs: z.RRs()})
		waitSOA(t, cd.Addr, z)
	}
	ps := dnsdiff.Probes(dz)
	positive, same, reasons, failures := comparePositive(ps, named.Addr, cd.Addr, dz)
	t.Logf("%d zones, %d probes, %d positive answers from named: %d identical from CoreDNS", len(zones), len(ps), positive, same)
	for _, r := range slices.Sorted(func(yield func(string) bool) {
		for r := range reasons {
			if !yield(r) {
				return
			}
		}
	}) {
		t.Logf("%5d: %s", reasons[r], r)
	}
	for i, f := range failures {
		if i == 30 {
			t.Errorf("... and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
}

// comparePositive asks both servers every probe named answers with
// records, and sorts the differences.
func comparePositive(ps []dnsdiff.Probe, named, coredns string, zones []dnsdiff.Zone) (positive, same int, reasons map[string]int, failures []string) {
	reasons = map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan dnsdiff.Probe)
	for range 8 {
		wg.Go(func() {
			for p := range work {
				pos, reason, fail := compareOne(p, named, coredns, zones)
				mu.Lock()
				if pos {
					positive++
				}
				switch {
				case fail != "":
					failures = append(failures, fail)
				case reason != "":
					reasons[reason]++
				case pos:
					same++
				}
				mu.Unlock()
			}
		})
	}
	for _, p := range ps {
		work <- p
	}
	close(work)
	wg.Wait()
	slices.Sort(failures)
	return positive, same, reasons, failures
}

func compareOne(p dnsdiff.Probe, named, coredns string, zones []dnsdiff.Zone) (positive bool, reason, fail string) {
	tcp := p.V.Name == dnsdiff.VTCP.Name
	w, err := dnsdiff.Endpoints{UDP: named, TCP: named}.Exchange(p.Msg(), tcp)
	if err != nil || w.Rcode != dns.RcodeSuccess || len(w.Answer) == 0 || w.Truncated {
		return false, "", ""
	}
	g, err := dnsdiff.Endpoints{UDP: coredns, TCP: coredns}.Exchange(p.Msg(), tcp)
	if err != nil {
		return true, "", fmt.Sprintf("%s: coredns: %v", p, err)
	}
	d := answerDiff(w, g)
	if len(d) == 0 {
		return true, "", ""
	}
	if r := pluginReason(p, w, g, zones); r != "" {
		return true, r, ""
	}
	return true, "", fmt.Sprintf("%s:\n  %s\n--- named:\n%s\n--- coredns:\n%s", p, strings.Join(d, "\n  "), w, g)
}

// answerDiff compares rcode, AA and the answer section (as sets).
func answerDiff(w, g *dns.Msg) []string {
	var d []string
	if w.Rcode != g.Rcode {
		d = append(d, fmt.Sprintf("rcode: want %s, got %s", dns.RcodeToString[w.Rcode], dns.RcodeToString[g.Rcode]))
	}
	if w.Authoritative != g.Authoritative {
		d = append(d, fmt.Sprintf("AA: want %v, got %v", w.Authoritative, g.Authoritative))
	}
	ws, gs := normalized(w.Answer), normalized(g.Answer)
	for _, s := range ws {
		if !slices.Contains(gs, s) {
			d = append(d, "answer: missing "+s)
		}
	}
	for _, s := range gs {
		if !slices.Contains(ws, s) {
			d = append(d, "answer: unexpected "+s)
		}
	}
	return d
}

func normalized(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, namedtest.Normalize(rr))
	}
	return out
}

var dnssecTypes = map[uint16]bool{dns.TypeRRSIG: true, dns.TypeNSEC: true, dns.TypeNSEC3: true, dns.TypeDNSKEY: true, dns.TypeNSEC3PARAM: true}

// pluginReason names the plugin limit a difference falls in, or "".
func pluginReason(p dnsdiff.Probe, w, g *dns.Msg, zones []dnsdiff.Zone) string {
	if dnssecTypes[p.QType] || slices.ContainsFunc(w.Answer, func(rr dns.RR) bool { return dnssecTypes[rr.Header().Rrtype] }) {
		return pluginDNSSEC
	}
	if p.QType == dns.TypeANY {
		return pluginANY
	}
	first := w.Answer[0].Header()
	switch {
	case first.Rrtype == dns.TypeDNAME:
		return pluginDNAME
	case !w.Authoritative:
		return pluginCut
	case first.Rrtype == dns.TypeCNAME && p.QType != dns.TypeCNAME && len(w.Answer) > 1:
		return pluginCNAME
	case deepWildcard(strings.ToLower(p.Name), zones):
		return pluginWildcard
	}
	return ""
}

// deepWildcard reports a name answered from a wildcard two or more labels
// above it.
func deepWildcard(name string, zones []dnsdiff.Zone) bool {
	for _, z := range zones {
		for _, rr := range z.RRs {
			owner := rr.Header().Name
			if !strings.HasPrefix(owner, "*.") {
				continue
			}
			parent := owner[2:]
			if strings.HasSuffix(name, "."+parent) && strings.Count(strings.TrimSuffix(name, "."+parent), ".") >= 1 {
				return true
			}
		}
	}
	return false
}

// corpus reads the differential corpus of the DNS server: zone name →
// original text (without $INCLUDE lines), and the zones dadns accepts.
func corpus(t *testing.T) (map[string]string, []*zone.Zone) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "dnsserver", "testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	texts := map[string]string{}
	var zones []*zone.Zone
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		origin := strings.TrimSuffix(filepath.Base(file), ".db")
		z, err := zone.Parse(zone.Name(origin), b, zone.Limits{})
		if err != nil {
			continue // refused on purpose (escaped owners)
		}
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(l)), "$INCLUDE") {
				keep = append(keep, l)
			}
		}
		texts[origin] = strings.Join(keep, "\n")
		zones = append(zones, z)
	}
	return texts, zones
}

// waitSOA waits until the server answers the zone's SOA serial (the
// plugin learns new zones at its next zone-list refresh).
func waitSOA(t *testing.T, addr string, z *zone.Zone) {
	t.Helper()
	c := &dns.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := new(dns.Msg)
		m.SetQuestion(z.Name.FQDN(), dns.TypeSOA)
		if r, _, err := c.Exchange(m, addr); err == nil && len(r.Answer) > 0 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == z.Serial {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("CoreDNS does not serve %s serial %d", z.Name, z.Serial)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeDNSPort returns a loopback port free for both UDP and TCP.
func freeDNSPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}
