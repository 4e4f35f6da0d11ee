package app

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/zone"
)

// bindRig is a named that includes the file a dadns bind backend writes,
// with an rndc wrapper that logs every call.
type bindRig struct {
	named   *namedtest.Named
	dir     string
	rndcLog string
}

func newBindRig(t *testing.T) *bindRig {
	t.Helper()
	namedtest.Require(t)
	dir := t.TempDir()
	r := &bindRig{dir: dir, rndcLog: filepath.Join(dir, "rndc.log")}
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> '%s'\nexec %s \"$@\"\n", r.rndcLog, namedtest.RndcPath)
	if err := os.WriteFile(filepath.Join(dir, "rndc"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r.named = namedtest.StartWithInclude(t, filepath.Join(dir, "dadns.conf"), namedtest.IncludeOptions{AllowTransfer: true})
	return r
}

// backendYAML is the dns.backends entry of a bind instance for this named.
func (r *bindRig) backendYAML() string {
	return fmt.Sprintf(`    bind:
      type: bind
      zones_dir: %s
      named_conf: %s
      rndc_path: %s
      rndc_conf: %s
      verify_address: %s
      verify_transfer: true
`, filepath.Join(r.dir, "zones"), filepath.Join(r.dir, "dadns.conf"), filepath.Join(r.dir, "rndc"),
		r.named.RndcConf(), r.named.Addr)
}

// rndcCalls returns the rndc commands named received so far, from its
// log (reload and reconfig are logged; status only at debug level):
// dadns sends them over the control channel, or runs the rndc binary when
// it does not understand the rndc configuration.
func (r *bindRig) rndcCalls(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(r.named.Log(), "\n") {
		if _, cmd, ok := strings.Cut(l, "received control channel command '"); ok {
			out = append(out, strings.TrimSuffix(cmd, "'"))
		}
	}
	return out
}

func pushZone(t *testing.T, n *node, name, text string) {
	t.Helper()
	q := url.Values{"action": {"rawsave"}, "domain": {name}, "hostname": {"da1.example"}, "username": {"u"}}
	code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), text)
	if err != nil || code != 200 || v.Get("error") != "0" {
		t.Fatalf("push %s: HTTP %d %v %v", name, code, v, err)
	}
}

// TestBindDifferentialThroughHTTP pushes the differential corpus through
// the API of a dadns whose only backend is bind, then compares that named
// with a reference named loading the original files.
func TestBindDifferentialThroughHTTP(t *testing.T) {
	r := newBindRig(t)
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
		zones = append(zones, dnsdiff.Zone{Origin: z.Name.FQDN(), RRs: z.RRs()})
	}
	for origin, serial := range serials {
		waitSOASerial(t, r.named.Addr, origin, serial)
	}
	ref := namedtest.Start(t, texts)
	ps := dnsdiff.Probes(zones)
	failures := dnsdiff.CompareAll(ps,
		dnsdiff.Endpoints{UDP: ref.Addr, TCP: ref.Addr},
		dnsdiff.Endpoints{UDP: r.named.Addr, TCP: r.named.Addr}, nil)
	t.Logf("%d zones pushed over HTTP into bind, %d probes, %d differences", len(zones), len(ps), len(failures))
	for i, f := range failures {
		if i == 30 {
			t.Errorf("... and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
}

// TestBindManyZonesFewRndcCalls pushes 2,000 zones through the API the way
// DirectAdmin does (several at a time) and checks that named serves them
// all after far fewer rndc calls than zones.
func TestBindManyZonesFewRndcCalls(t *testing.T) {
	const zones, pushers = 2000, 8
	r := newBindRig(t)
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, dir, httpPort, r.backendYAML())
	start := time.Now()
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Go(func() {
			for i := p; i < zones; i += pushers {
				name := fmt.Sprintf("z%04d.many.example", i)
				pushZone(t, n, name, e2eZone(name, 2026010100+i))
			}
		})
	}
	wg.Wait()
	pushed := time.Since(start)
	for i := range zones {
		waitSOASerial(t, r.named.Addr, fmt.Sprintf("z%04d.many.example", i), uint32(2026010100+i))
	}
	served := time.Since(start)
	calls := r.rndcCalls(t)
	t.Logf("%d zones: pushed in %v, all served by named after %v (%.0f zones/s end to end), %d rndc calls: %v",
		zones, pushed.Round(time.Millisecond), served.Round(time.Millisecond), zones/served.Seconds(), len(calls), calls)
	if len(calls) == 0 || len(calls) > zones/20 {
		t.Fatalf("%d rndc calls for %d zones; want at least one and at most %d", len(calls), zones, zones/20)
	}
}

// TestBindNamedDown pushes while named is down: the pushes are accepted,
// the bind backend's zones show as failing with rndc's error, and named
// serves them once it is back, with nothing done by hand.
func TestBindNamedDown(t *testing.T) {
	r := newBindRig(t)
	dir := t.TempDir()
	httpPort, _ := freePorts(t)
	n := startNodeWith(t, dir, httpPort, r.backendYAML())
	pushZone(t, n, "up.down.example", e2eZone("up.down.example", 1))
	waitSOASerial(t, r.named.Addr, "up.down.example", 1)

	r.named.Stop()
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
		waitFailing(t, st, name)
	}
	r.named.Restart(t)
	for _, name := range names {
		waitSOASerial(t, r.named.Addr, name, 2)
	}
}

// waitFailing waits until the bind backend records a failure of the zone
// that names rndc.
func waitFailing(t *testing.T, st store.Store, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last []store.BackendState
	for time.Now().Before(deadline) {
		last, _ = st.BackendStates(context.Background(), name)
		for _, s := range last {
			if s.Backend == "bind" && s.State == store.StateFailed && strings.Contains(s.LastError, "rndc") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not shown as failing with rndc's error: %+v", name, last)
}
