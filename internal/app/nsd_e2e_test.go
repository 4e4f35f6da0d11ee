package app

import (
	"context"
	"fmt"
	"github.com/dadns/dadns/internal/store/sqlite"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/nsdtest"
	"github.com/dadns/dadns/internal/zone"
)

// nsdRefusedCorpusZones are the corpus zones dadns accepts but NSD will
// not load, with NSD's reason: none today (nsd-checkzone loads the
// canonical text of every zone dadns accepts from the corpus).
var nsdRefusedCorpusZones = map[string]string{}

// nsdRig is an NSD whose nsd.conf includes the file a dadns nsd backend
// writes and defines the pattern zones are added with.
type nsdRig struct {
	nsd *nsdtest.NSD
	dir string
}

func newNSDRig(t *testing.T) *nsdRig {
	t.Helper()
	nsdtest.Require(t)
	dir := t.TempDir()
	r := &nsdRig{dir: dir}
	r.nsd = nsdtest.Start(t, nsdtest.Options{Include: filepath.Join(dir, "dadns.conf"),
		ZonesDir: filepath.Join(dir, "zones"), AllowTransfer: true})
	return r
}

// backendYAML is the dns.backends entry of an nsd instance in mode for
// this NSD.
func (r *nsdRig) backendYAML(mode string) string { return r.instanceYAML("nsd", mode) }

// instanceYAML is backendYAML for an instance called name.
func (r *nsdRig) instanceYAML(name, mode string) string {
	return fmt.Sprintf(`    %s:
      type: nsd
      zones_dir: %s
      nsd_conf: %s
      nsd_control: %s
      nsd_control_conf: %s
      pattern: %s
      mode: %s
      verify_address: %s
      verify_transfer: true
`, name, filepath.Join(r.dir, "zones"), filepath.Join(r.dir, "dadns.conf"), nsdtest.ControlPath, r.nsd.Conf,
		nsdtest.PatternName, mode, r.nsd.Addr)
}

// TestNSDDifferentialThroughHTTP pushes the differential corpus through
// the API of a dadns whose only backend is nsd, then compares that NSD
// with a reference named loading the original files. Zones NSD refuses
// are listed with NSD's reason and must be exactly nsdRefusedCorpusZones.
func TestNSDDifferentialThroughHTTP(t *testing.T) {
	namedtest.Require(t)
	for _, mode := range []string{"addzone", "include"} {
		t.Run(mode, func(t *testing.T) { nsdDifferential(t, mode) })
	}
}

func nsdDifferential(t *testing.T, mode string) {
	r := newNSDRig(t)
	files, err := filepath.Glob(filepath.Join("..", "dnsserver", "testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, dir, httpPort, r.backendYAML(mode))
	texts := map[string]string{}
	serials := map[string]uint32{}
	parsed := map[string]*zone.Zone{}
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
		z, err := zone.Parse(zone.Name(origin), b, zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		texts[origin] = withoutIncludes(string(b))
		serials[origin] = z.Serial
		parsed[origin] = z
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	refused := map[string]string{}
	for origin := range serials {
		if why := waitAppliedOrRefused(t, st, origin); why != "" {
			refused[origin] = why
			t.Logf("NSD refuses %s: %s", origin, why)
		}
	}
	if !slices.Equal(slices.Sorted(mapKeys(refused)), slices.Sorted(mapKeys(nsdRefusedCorpusZones))) {
		t.Errorf("zones NSD refuses: %v; want %v", refused, nsdRefusedCorpusZones)
	}
	var zones []dnsdiff.Zone
	for origin, z := range parsed {
		if _, ok := refused[origin]; ok {
			delete(texts, origin)
			continue
		}
		waitSOASerial(t, r.nsd.Addr, origin, serials[origin])
		zones = append(zones, dnsdiff.Zone{Origin: z.Name.FQDN(), RRs: z.RRs()})
	}
	ref := namedtest.Start(t, texts)
	originals, origRefused := nsdLoadable(t, texts)
	refNSD := nsdtest.Start(t, nsdtest.Options{Zones: originals, AllowTransfer: true})
	ps := dnsdiff.Probes(zones)
	ours := dnsdiff.Endpoints{UDP: r.nsd.Addr, TCP: r.nsd.Addr}
	// 1. The zones dadns pushed, as NSD serves them, answer exactly like
	// NSD loading the original files.
	var same []dnsdiff.Probe
	for _, p := range ps {
		if _, ok := originals[strings.TrimSuffix(probeZone(p, zones), ".")]; ok {
			same = append(same, p)
		}
	}
	direct := dnsdiff.CompareAll(same, dnsdiff.Endpoints{UDP: refNSD.Addr, TCP: refNSD.Addr}, ours, nil)
	// 2. Against named, they differ only where NSD itself differs from
	// named on the original files (NSD's behaviour, not the data).
	vsNamed := dnsdiff.CompareAll(ps, dnsdiff.Endpoints{UDP: ref.Addr, TCP: ref.Addr}, ours, nil)
	baseline := map[string]bool{}
	headers := map[string]bool{} // header differences NSD shows on any zone
	for _, f := range dnsdiff.CompareAll(same, dnsdiff.Endpoints{UDP: ref.Addr, TCP: ref.Addr},
		dnsdiff.Endpoints{UDP: refNSD.Addr, TCP: refNSD.Addr}, nil) {
		baseline[behaviourKey(f)] = true
		for _, l := range strings.Split(behaviourKey(f), "\n")[1:] {
			if isHeaderDiff(l) {
				headers[strings.TrimSpace(l)] = true
			}
		}
	}
	var beyond []string
	for _, f := range vsNamed {
		if !baseline[behaviourKey(f)] && !onlyHeaders(behaviourKey(f), headers) {
			beyond = append(beyond, f)
		}
	}
	// 3. Record for record, each zone NSD serves equals the original.
	for origin := range originals {
		if got, want := axfrSet(t, r.nsd.Addr, origin), axfrSet(t, refNSD.Addr, origin); !slices.Equal(got, want) {
			t.Errorf("%s: transferred from the NSD dadns fed:\n%s\nfrom NSD loading the original:\n%s",
				origin, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	direct, directOrder := splitOrderDependent(direct)
	beyond, beyondOrder := splitOrderDependent(beyond)
	t.Logf("%s mode: %d zones pushed over HTTP into NSD, %d refused by NSD after canonicalization, %d original files NSD refuses %v; "+
		"%d probes: %d differences from NSD loading the originals (+%d that follow the file's record order: "+
		"ANY answers, records NSD adds to a full reply), %d from named (%d of them NSD's own behaviour, %d beyond it, +%d order-dependent)",
		mode, len(zones), len(refused), len(origRefused), origRefused, len(ps), len(direct), directOrder, len(vsNamed),
		len(vsNamed)-len(beyond)-beyondOrder, len(beyond), beyondOrder)
	for i, f := range append(direct, beyond...) {
		if i == 30 {
			t.Errorf("... and %d more", len(direct)+len(beyond)-i)
			break
		}
		t.Error(f)
	}
}

// nsdLoadable returns the original files nsd-checkzone accepts, and why
// it refuses the others.
func nsdLoadable(t *testing.T, texts map[string]string) (map[string]string, map[string]string) {
	t.Helper()
	ok, refused := map[string]string{}, map[string]string{}
	dir := t.TempDir()
	for origin, text := range texts {
		p := filepath.Join(dir, origin)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(nsdtest.CheckzonePath, origin, p).CombinedOutput()
		if err != nil {
			refused[origin] = strings.ReplaceAll(strings.TrimSpace(string(out)), p, "line")
			t.Logf("NSD refuses the original file of %s (dadns's canonical form it loads): %s", origin, refused[origin])
			continue
		}
		ok[origin] = text
	}
	return ok, refused
}

// probeZone returns the origin of the zone a probe asks about.
func probeZone(p dnsdiff.Probe, zones []dnsdiff.Zone) string {
	best := ""
	for _, z := range zones {
		if dns.IsSubDomain(z.Origin, p.Name) && len(z.Origin) > len(best) {
			best = z.Origin
		}
	}
	return best
}

// splitOrderDependent drops the failures that follow the order of the
// records in the zone file, which dadns's canonical file changes: NSD
// answers ANY with RRsets in file order, and fills a full reply's
// authority NS and additional records in file order. The data itself is
// compared record for record by zone transfer. It returns the rest and
// how many were dropped.
func splitOrderDependent(fs []string) ([]string, int) {
	var out []string
	for _, f := range fs {
		lines := strings.Split(diffKey(f), "\n")
		only := len(lines) > 1
		for _, l := range lines[1:] {
			only = only && orderDependent(strings.TrimSpace(l))
		}
		if !only && !strings.Contains(lines[0], " ANY [") {
			out = append(out, f)
		}
	}
	return out, len(fs) - len(out)
}

// behaviourKey is a failure without the replies it quotes and without
// the differences that follow the file's record order.
func behaviourKey(f string) string {
	lines := strings.Split(diffKey(f), "\n")
	out := lines[:1]
	for _, l := range lines[1:] {
		if !orderDependent(strings.TrimSpace(l)) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func orderDependent(l string) bool {
	return strings.HasPrefix(l, "additional:") || strings.HasPrefix(l, "authority:") && strings.Contains(l, " IN NS ")
}

// isHeaderDiff reports a difference in the reply's header (a flag, the
// rcode), not in its records.
func isHeaderDiff(l string) bool {
	l = strings.TrimSpace(l)
	for _, p := range []string{"answer:", "authority:", "additional:", "question:"} {
		if strings.HasPrefix(l, p) {
			return false
		}
	}
	return l != ""
}

// onlyHeaders reports a failure whose differences are all header
// differences NSD shows on the zones whose original files it loads (NSD
// does not copy the CD bit, for one): NSD's behaviour, whatever the zone.
func onlyHeaders(key string, headers map[string]bool) bool {
	lines := strings.Split(key, "\n")[1:]
	for _, l := range lines {
		if !headers[strings.TrimSpace(l)] {
			return false
		}
	}
	return len(lines) > 0
}

// axfrSet transfers origin from addr and returns its records, normalized
// and sorted, without the closing SOA.
func axfrSet(t *testing.T, addr, origin string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetAxfr(dns.Fqdn(origin))
	env, err := (&dns.Transfer{}).In(m, addr)
	if err != nil {
		t.Fatalf("axfr %s from %s: %v", origin, addr, err)
	}
	var out []string
	for e := range env {
		if e.Error != nil {
			t.Fatalf("axfr %s from %s: %v", origin, addr, e.Error)
		}
		for _, rr := range e.RR {
			out = append(out, namedtest.Normalize(rr))
		}
	}
	if len(out) > 1 {
		out = out[:len(out)-1]
	}
	slices.Sort(out)
	return out
}

// diffKey is a CompareAll failure without the replies it quotes.
func diffKey(f string) string {
	k, _, _ := strings.Cut(f, "\n--- named:")
	return k
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// waitAppliedOrRefused waits until the nsd backend has applied the zone
// ("") or failed it permanently (NSD's reason).
func waitAppliedOrRefused(t *testing.T, st store.Store, name string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last []store.BackendState
	for time.Now().Before(deadline) {
		last, _ = st.BackendStates(context.Background(), name)
		for _, s := range last {
			switch {
			case s.Backend != "nsd":
			case s.State == store.StateApplied:
				return ""
			case s.State == store.StateFailed && strings.Contains(s.LastError, "would not load"):
				return s.LastError
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: neither applied nor refused by nsd: %+v", name, last)
	return ""
}

// TestNSDDown pushes while NSD is down: the pushes are accepted, the nsd
// backend's zones show as failing with nsd-control's error, and NSD
// serves them once it is back, with nothing done by hand.
func TestNSDDown(t *testing.T) {
	r := newNSDRig(t)
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, dir, httpPort, r.backendYAML("addzone"))
	pushZone(t, n, "up.down.example", e2eZone("up.down.example", 1))
	waitSOASerial(t, r.nsd.Addr, "up.down.example", 1)

	r.nsd.Stop()
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
		waitFailingWith(t, st, "nsd", name, "nsd-control")
	}
	r.nsd.Restart(t)
	for _, name := range names {
		waitSOASerialWithin(t, r.nsd.Addr, name, 2, 2*time.Minute)
	}
}

// waitFailingWith waits until backend records a failure of the zone whose
// error names what.
func waitFailingWith(t *testing.T, st store.Store, backend, name, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last []store.BackendState
	for time.Now().Before(deadline) {
		last, _ = st.BackendStates(context.Background(), name)
		for _, s := range last {
			if s.Backend == backend && s.State == store.StateFailed && strings.Contains(s.LastError, what) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not shown as failing with %s's error: %+v", name, what, last)
}

// TestDirectdnsonlyNSDConfig starts dadns with a directdnsonly app.yml
// whose NSD backend is on (its keys: zones_dir and nsd_conf), unchanged:
// the ports and nsd-control's configuration come from DADNS_ variables.
// A pushed zone reaches NSD through the include file and a reconfig.
func TestDirectdnsonlyNSDConfig(t *testing.T) {
	nsdtest.Require(t)
	dir := t.TempDir()
	include := filepath.Join(dir, "data", "nsd", "zones.conf")
	if err := os.MkdirAll(filepath.Dir(include), 0o755); err != nil {
		t.Fatal(err)
	}
	ns := nsdtest.Start(t, nsdtest.Options{Include: include})
	cfg, err := os.ReadFile(filepath.Join("testdata", "directdnsonly-nsd-app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "app.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	httpPort, _ := freePorts(t)
	n := &node{t: t, dir: dir, out: &strings.Builder{}, client: http.DefaultClient, cfgPath: cfgPath,
		httpURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	n.cmd = exec.Command(os.Args[0], "--config", cfgPath, "serve")
	n.cmd.Env = append(os.Environ(), "E2E_DADNS_CHILD=1", "DADNS_APP_AUTH_PASSWORD="+e2ePass,
		"DADNS_APP_AUTH_USERNAME=da", "DADNS_APP_LISTEN_ADDRESS=127.0.0.1", fmt.Sprintf("DADNS_APP_LISTEN_PORT=%d", httpPort),
		"DADNS_DNS_BACKENDS_NSD_NSD_CONTROL="+nsdtest.ControlPath, "DADNS_DNS_BACKENDS_NSD_NSD_CONTROL_CONF="+ns.Conf,
		"DADNS_DNS_BACKENDS_NSD_VERIFY_ADDRESS="+ns.Addr)
	n.cmd.Dir = dir
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(n.kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, err := n.request("GET", "/CMD_API_LOGIN_TEST", ""); err == nil && code == 200 {
			break
		}
		select {
		case <-n.exited:
			t.Fatalf("dadns exited at start; output:\n%s", n.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dadns did not start; output:\n%s", n.out)
		}
	}
	pushZone(t, n, "ddo.example", e2eZone("ddo.example", 7))
	waitSOASerial(t, ns.Addr, "ddo.example", 7)
	inc, err := os.ReadFile(include)
	if err != nil || !strings.Contains(string(inc), "name: \"ddo.example\"") {
		t.Fatalf("include %s: %q %v", include, inc, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "nsd", "zones", "ddo.example.db")); err != nil {
		t.Fatal(err)
	}
}

// waitSOASerialWithin is waitSOASerial with a longer deadline, for zones
// that wait for a retry.
func waitSOASerialWithin(t *testing.T, addr, name string, serial uint32, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if soaServed(addr, name, serial) == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitSOASerial(t, addr, name, serial)
}

func startNSDInstance(t *testing.T, _ *shared, name string) (string, func(string, uint32) error) {
	r := newNSDRig(t)
	return r.instanceYAML(name, "addzone"), func(zone string, serial uint32) error { return soaServed(r.nsd.Addr, zone, serial) }
}
