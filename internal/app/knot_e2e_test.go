package app

import (
	"context"
	"fmt"
	"github.com/dadns/dadns/internal/store/sqlite"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/zone"
)

// knotRig is a knotd whose default template loads the directory a dadns
// knot backend writes, and which allows transfers to 127.0.0.1.
type knotRig struct {
	knot  *knottest.Knot
	zones string
}

func newKnotRig(t *testing.T) *knotRig {
	t.Helper()
	knottest.Require(t)
	zones := filepath.Join(t.TempDir(), "zones")
	return &knotRig{knot: knottest.Start(t, knottest.Options{ZonesDir: zones, AllowTransfer: true}), zones: zones}
}

// backendYAML is the dns.backends entry of a knot instance for this knotd.
func (r *knotRig) backendYAML() string {
	return fmt.Sprintf(`    knot:
      type: knot
      zones_dir: %s
      knotc_path: %s
      knot_socket: %s
      verify_address: %s
      verify_transfer: true
`, r.zones, knottest.KnotcPath, r.knot.Socket, r.knot.Addr)
}

// startKnotInstance is a knot instance of TestTwoInstancesOfEveryType,
// with its own knotd.
func startKnotInstance(t *testing.T, _ *shared, name string) (string, func(string, uint32) error) {
	r := newKnotRig(t)
	yaml := strings.Replace(r.backendYAML(), "    knot:\n", "    "+name+":\n", 1)
	return yaml, func(zone string, serial uint32) error { return soaServed(r.knot.Addr, zone, serial) }
}

// knotRefusedZones are corpus zones knotd will not load, with knotd's
// reason: dadns accepts them (BIND loads them), and the knot backend
// fails them permanently with that reason while the others are served.
var knotRefusedZones = map[string]string{}

// knotKnownDifferences are answers where knotd deliberately differs from
// BIND for the same zone data.
var knotKnownDifferences = map[string]string{}

// TestKnotDifferentialThroughHTTP pushes the differential corpus through
// the API of a dadns whose only backend is knot, then compares that knotd
// with a reference named loading the original files. Every zone knotd
// refuses is listed in knotRefusedZones and must fail permanently with
// knotd's reason.
func TestKnotDifferentialThroughHTTP(t *testing.T) {
	r := newKnotRig(t)
	files, err := filepath.Glob(filepath.Join("..", "dnsserver", "testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, dir, httpPort, r.backendYAML())
	texts := map[string]string{}
	serials := map[string]uint32{}
	var zones []dnsdiff.Zone
	var refusedNames []string
	for _, f := range files {
		origin := strings.TrimSuffix(filepath.Base(f), ".db")
		if _, refused := refusedCorpusZones[origin]; refused {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pushZone(t, n, origin, string(b))
		if _, refused := knotRefusedZones[origin]; refused {
			refusedNames = append(refusedNames, origin)
			continue
		}
		z, err := zone.Parse(zone.Name(origin), b, zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		texts[origin] = withoutIncludes(string(b))
		serials[origin] = z.Serial
		zones = append(zones, dnsdiff.Zone{Origin: z.Name.FQDN(), RRs: z.RRs()})
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, origin := range refusedNames {
		waitKnotState(t, st, origin, store.StatePermanent, knotRefusedZones[origin])
	}
	var unexpected []string
	for origin, serial := range serials {
		if s := waitKnotSettled(t, st, origin); s.State == store.StatePermanent {
			unexpected = append(unexpected, fmt.Sprintf("%s: %s", origin, s.LastError))
			delete(texts, origin)
			continue
		}
		waitSOASerial(t, r.knot.Addr, origin, serial)
	}
	slices.Sort(unexpected)
	for _, u := range unexpected {
		t.Errorf("knot refused a zone not in knotRefusedZones: %s", u)
	}
	ref := namedtest.Start(t, texts)
	ps := dnsdiff.Probes(zones)
	policy, failures := compareKnot(ps, dnsdiff.Endpoints{UDP: ref.Addr, TCP: ref.Addr},
		dnsdiff.Endpoints{UDP: r.knot.Addr, TCP: r.knot.Addr})
	t.Logf("%d zones pushed over HTTP into knot (%d refused by knotd as listed), %d probes, %d differences beyond knotd's documented answer policy",
		len(zones), len(refusedNames), len(ps), len(failures))
	for _, c := range slices.Sorted(maps.Keys(policy)) {
		t.Logf("answer policy %q: %d probes (%s)", c, policy[c], knotPolicy[c])
	}
	for i, f := range failures {
		if i == 40 {
			t.Errorf("... and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
}

// knotPolicy names the ways knotd's answers differ from BIND's by design
// rather than by zone data; compareKnot counts them instead of failing.
var knotPolicy = map[string]string{
	"cd":  "knotd does not copy the CD bit into its replies (BIND does); it is a resolver flag an authoritative server ignores",
	"any": "knotd answers ANY per RFC 8482 (one RRset of the name, a CNAME or DNAME chased), not BIND's full set: ANY answers are counted, not compared",
	"cname-chain": "knotd follows at most 5 CNAMEs inside its zones and answers a longer chain or a loop with NOERROR and the chain so far (a wildcard CNAME to itself twice); " +
		"BIND follows more and answers SERVFAIL",
	"nsec3-owner-ttl": "BIND gives the SOA of a negative answer TTL 0 when the query name looks like an NSEC3 owner; knotd keeps the SOA's TTL",
	"referral-glue":   "knotd adds the addresses of in-zone name servers to a referral's additional section even when they are not below the cut; BIND does not",
	"nsec-at-cut":     "a query for NSEC at a delegation: BIND answers it from the parent side with AA, knotd refers to the child",
	"rrsig-query": "a query for type RRSIG: knotd answers with the signatures of the name's own RRsets only (not of its NSEC, nor synthesized from a wildcard), " +
		"a subset of BIND's answer (that fits in 512 bytes where BIND's needs TCP)",
}

// compareKnot asks both servers every probe and compares the replies with
// namedtest.Diff (rcode, AA, TC, question, EDNS, answer, and the
// authority of negative answers and referrals). Differences that are
// knotd's answer policy are counted by kind in policy; every other
// difference is returned.
func compareKnot(ps []dnsdiff.Probe, ref, got dnsdiff.Endpoints) (policy map[string]int, failures []string) {
	policy = map[string]int{}
	var mu sync.Mutex
	work := make(chan dnsdiff.Probe)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for p := range work {
				kinds, f := compareKnotOne(p, ref, got)
				mu.Lock()
				for _, k := range kinds {
					policy[k]++
				}
				if f != "" {
					failures = append(failures, f)
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
	return policy, failures
}

func compareKnotOne(p dnsdiff.Probe, ref, got dnsdiff.Endpoints) (kinds []string, failure string) {
	m := p.Msg()
	tcp := strings.HasPrefix(p.V.Name, "tcp")
	w, err := ref.Exchange(m.Copy(), tcp)
	if err != nil {
		return nil, fmt.Sprintf("%s: named: %v", p, err)
	}
	g, err := got.Exchange(m.Copy(), tcp)
	if err != nil {
		return nil, fmt.Sprintf("%s: knotd: %v", p, err)
	}
	d := namedtest.Diff(w, g)
	if len(d) == 0 {
		return nil, ""
	}
	if p.QType == dns.TypeANY {
		return []string{"any"}, ""
	}
	var rest []string
	for _, l := range d {
		if strings.HasPrefix(l, "CD:") && m.CheckingDisabled && w.CheckingDisabled && !g.CheckingDisabled {
			kinds = append(kinds, "cd")
			continue
		}
		rest = append(rest, l)
	}
	if len(rest) > 0 {
		if k := knotPolicyKind(p, w, g, rest); k != "" {
			kinds, rest = append(kinds, k), nil
		}
	}
	if len(rest) == 0 {
		return kinds, ""
	}
	if why, ok := knotKnownDifferences[p.String()]; ok && why != "" {
		return kinds, ""
	}
	return kinds, fmt.Sprintf("%s:\n  %s\n--- named:\n%s\n--- knotd:\n%s", p, strings.Join(rest, "\n  "), w, g)
}

// knotPolicyKind returns the knotPolicy entry that explains every one of
// the differences d, or "".
func knotPolicyKind(p dnsdiff.Probe, w, g *dns.Msg, d []string) string {
	all := func(ok func(string) bool) bool {
		for _, l := range d {
			if !ok(l) {
				return false
			}
		}
		return true
	}
	switch {
	case len(w.Answer) > 0 && w.Answer[0].Header().Rrtype == dns.TypeCNAME && onlyCNAMEs(g.Answer) && subset(g.Answer, w.Answer) &&
		all(func(l string) bool {
			return l == "rcode: want SERVFAIL, got NOERROR" || strings.HasPrefix(l, "answer: ")
		}):
		return "cname-chain"
	case p.QType == dns.TypeRRSIG && subset(g.Answer, w.Answer) &&
		all(func(l string) bool {
			return strings.HasPrefix(l, "answer: missing ") || strings.HasPrefix(l, "authority: ") || l == "TC: want true, got false"
		}):
		return "rrsig-query"
	case len(w.Answer) == 0 && len(w.Ns) > 0 && w.Ns[0].Header().Ttl == 0 && sameIgnoringTTL(w.Ns, g.Ns) &&
		all(func(l string) bool { return strings.HasPrefix(l, "authority: ") }):
		return "nsec3-owner-ttl"
	case !w.Authoritative && !g.Authoritative && len(w.Answer) == 0 &&
		all(func(l string) bool { return strings.HasPrefix(l, "additional: unexpected ") }):
		return "referral-glue"
	case p.QType == dns.TypeNSEC && w.Authoritative && !g.Authoritative && len(g.Answer) == 0 && hasNS(g.Ns):
		return "nsec-at-cut"
	}
	return ""
}

func sameIgnoringTTL(a, b []dns.RR) bool {
	norm := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			c := dns.Copy(rr)
			c.Header().Ttl = 0
			out = append(out, namedtest.Normalize(c))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

func onlyCNAMEs(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeCNAME {
			return false
		}
	}
	return true
}

func hasNS(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeNS {
			return true
		}
	}
	return false
}

// subset reports whether every record of a is in b.
func subset(a, b []dns.RR) bool {
	in := map[string]bool{}
	for _, rr := range b {
		in[namedtest.Normalize(rr)] = true
	}
	for _, rr := range a {
		if !in[namedtest.Normalize(rr)] {
			return false
		}
	}
	return true
}

func knotState(st store.Store, name string) store.BackendState {
	ss, _ := st.BackendStates(context.Background(), name)
	for _, s := range ss {
		if s.Backend == "knot" {
			return s
		}
	}
	return store.BackendState{}
}

// waitKnotSettled waits until the knot backend has applied the zone or
// failed it permanently, and returns its state.
func waitKnotSettled(t *testing.T, st store.Store, name string) store.BackendState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last store.BackendState
	for time.Now().Before(deadline) {
		last = knotState(st, name)
		if last.State == store.StateApplied || last.State == store.StatePermanent {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: knot state %q error %q; want applied or permanent", name, last.State, last.LastError)
	return last
}

// waitKnotState waits until the knot backend's state of the zone is state
// with an error containing substr.
func waitKnotState(t *testing.T, st store.Store, name string, state store.State, substr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last store.BackendState
	for time.Now().Before(deadline) {
		last = knotState(st, name)
		if last.State == state && strings.Contains(last.LastError, substr) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: knot state %q error %q; want %q with %q", name, last.State, last.LastError, state, substr)
}

// TestKnotDown pushes while knotd is down: the pushes are accepted, the
// knot backend's zones show as failing with the control socket's error, and knotd
// serves them once it is back (restarted from its text configuration,
// which forgot the zones added at run time), with nothing done by hand:
// on the dispatcher's retry schedule (its first retry may come 30 s after
// the failure), so the wait here is longer than waitSOASerial's.
func TestKnotDown(t *testing.T) {
	r := newKnotRig(t)
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, dir, httpPort, r.backendYAML())
	pushZone(t, n, "up.down.example", e2eZone("up.down.example", 1))
	waitSOASerial(t, r.knot.Addr, "up.down.example", 1)

	r.knot.Stop()
	names := []string{"a.down.example", "b.down.example", "up.down.example"}
	for _, name := range names {
		pushZone(t, n, name, e2eZone(name, 2))
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, name := range names {
		waitKnotState(t, st, name, store.StateFailed, "failed to connect to socket")
	}
	r.knot.Restart(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dadns output:\n%s", n.out)
		}
	})
	for _, name := range names {
		if err := waitKnotSerial(r.knot, name, 2, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// waitKnotSerial waits until knotd answers name's SOA with serial.
func waitKnotSerial(k *knottest.Knot, name string, serial uint32, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
		r, err := k.Exchange(m, "udp")
		if err == nil && r.Authoritative && len(r.Answer) == 1 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: serial %d not served after %s (last %v, %v)", name, serial, limit, r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKnotMeasure is a measurement, run by hand: KNOT_MEASURE_ZONES=10000
// pushes that many zones through the API of a dadns whose only backend is
// knot (8 pushers, as DirectAdmin pushes several at a time) and times
// until knotd serves them all, then times a second knotd's cold load of
// the same files listed in its knot.conf, and logs the ratio; then it
// pushes one zone 50 times and logs the median time from the push to
// knotd serving the new serial.
func TestKnotMeasure(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("KNOT_MEASURE_ZONES"))
	if total <= 0 {
		t.Skip("set KNOT_MEASURE_ZONES=<zones> to measure")
	}
	const pushers = 8
	r := newKnotRig(t)
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, dir, httpPort, r.backendYAML())
	name := func(i int) string { return fmt.Sprintf("z%05d.bulk.example", i) }
	start := time.Now()
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Go(func() {
			for i := p; i < total; i += pushers {
				pushZone(t, n, name(i), e2eZone(name(i), 2026010100+i))
			}
		})
	}
	wg.Wait()
	pushed := time.Since(start)
	for i := range total {
		waitSOASerial(t, r.knot.Addr, name(i), uint32(2026010100+i))
	}
	served := time.Since(start)

	files := map[string]string{}
	for i := range total {
		files[name(i)] = filepath.Join(r.zones, name(i)+".zone")
	}
	start = time.Now()
	cold := knottest.Start(t, knottest.Options{Zones: files, DefaultStorage: t.TempDir()})
	for i := range total {
		if err := cold.WaitServes(name(i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	coldTime := time.Since(start)
	t.Logf("%d zones pushed over HTTP in %v, all served by knotd after %v (%.0f zones/s end to end); knotd cold load of the same files %v (%.0f zones/s); ratio %.2f",
		total, pushed.Round(time.Millisecond), served.Round(time.Millisecond), float64(total)/served.Seconds(),
		coldTime.Round(time.Millisecond), float64(total)/coldTime.Seconds(), served.Seconds()/coldTime.Seconds())

	const rounds = 50
	lat := make([]time.Duration, 0, rounds)
	for i := range rounds {
		serial := 2027010100 + i
		t0 := time.Now()
		pushZone(t, n, "latency.example", e2eZone("latency.example", serial))
		for {
			m := new(dns.Msg)
			m.SetQuestion("latency.example.", dns.TypeSOA)
			resp, err := dns.Exchange(m, r.knot.Addr)
			if err == nil && len(resp.Answer) == 1 {
				if soa, ok := resp.Answer[0].(*dns.SOA); ok && soa.Serial == uint32(serial) {
					break
				}
			}
			if time.Since(t0) > 30*time.Second {
				t.Fatalf("latency.example serial %d not served after 30s", serial)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	t.Logf("push-to-served over %d pushes of one zone: median %v, min %v, max %v",
		rounds, lat[rounds/2].Round(100*time.Microsecond), lat[0].Round(100*time.Microsecond), lat[rounds-1].Round(100*time.Microsecond))
}
