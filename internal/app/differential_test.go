package app

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/zone"
)

// refusedCorpusZones are corpus zones dadns refuses on purpose, with why.
var refusedCorpusZones = map[string]string{
	"esc.test": "owner names with escaped dots and spaces: spelled differently by each server and SQL backend once escaped (see zone.badOwner)",
}

// knownDifferences mirror dnsserver's: answers where builtin deliberately
// differs from BIND.
var knownDifferences = map[string]string{
	"cn.big.test. TXT [mixedcase]": "BIND compresses names case-sensitively; its larger answer drops an additional AAAA",
}

// TestDifferentialThroughHTTP pushes the differential corpus through the
// DirectAdmin API of a running dadns and compares the builtin backend's
// answers with a real named loading the original files.
func TestDifferentialThroughHTTP(t *testing.T) {
	namedtest.Require(t)
	files, err := filepath.Glob(filepath.Join("..", "dnsserver", "testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	texts := map[string]string{}
	var zones []dnsdiff.Zone
	serials := map[string]uint32{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		origin := strings.TrimSuffix(filepath.Base(f), ".db")
		q := url.Values{"action": {"rawsave"}, "domain": {origin}, "hostname": {"da1.example"}, "username": {"u"}}
		code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), string(b))
		if err != nil {
			t.Fatal(err)
		}
		if why, refused := refusedCorpusZones[origin]; refused {
			if code != 400 {
				t.Errorf("%s: accepted, expected a refusal (%s)", origin, why)
			}
			continue
		}
		if code != 200 || v.Get("error") != "0" {
			t.Fatalf("push %s: HTTP %d %v", origin, code, v)
		}
		z, err := zone.Parse(zone.Name(origin), b, zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		texts[origin] = withoutIncludes(string(b))
		zones = append(zones, dnsdiff.Zone{Origin: z.Name.FQDN(), RRs: z.RRs()})
		serials[origin] = z.Serial
	}
	for origin, serial := range serials {
		waitSOASerial(t, n.dnsAddr, origin, serial)
	}
	named := namedtest.Start(t, texts)
	ps := dnsdiff.Probes(zones)
	// dadns answers ANY over UDP minimally (minimal_any, on by default):
	// those probes are checked for one of named's RRsets instead.
	theirs, ours := dnsdiff.Endpoints{UDP: named.Addr, TCP: named.Addr}, dnsdiff.Endpoints{UDP: n.dnsAddr, TCP: n.dnsAddr}
	known, failures := dnsdiff.MinimalANY(ps, theirs, ours)
	for k, v := range knownDifferences {
		known[k] = v
	}
	failures = append(failures, dnsdiff.CompareAll(ps, theirs, ours, known)...)
	t.Logf("%d zones pushed over HTTP, %d probes, %d differences", len(zones), len(ps), len(failures))
	for i, f := range failures {
		if i == 30 {
			t.Errorf("... and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
}

// withoutIncludes drops $INCLUDE lines for named: they name files that
// exist only on the DirectAdmin box, and dadns skips them too.
func withoutIncludes(text string) string {
	lines := strings.Split(text, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(l)), "$INCLUDE") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
