package powerdns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/pdnstest"
	"github.com/dadns/dadns/internal/zone"
)

// corpus reads the differential corpus of the DNS server: zone name →
// original text, and the zones as dadns parses them. Zones dadns refuses
// are left out.
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
			continue // refused on purpose (escaped owners): not stored anywhere
		}
		texts[origin] = withoutIncludes(string(b))
		zones = append(zones, z)
	}
	return texts, zones
}

// TestServedLikeNamed writes the corpus and the golden zone, starts a
// pdns_server on the rows and a named on the original files, and compares
// their answers (rcode, AA, answer; authority on empty answers;
// additional on referrals) for every probe. Differences must be among
// the documented ones (KnownDifferences), each with the RFC that decides.
func TestServedLikeNamed(t *testing.T) {
	namedtest.Require(t)
	f := newFixture(t)
	texts, zones := corpus(t)
	g, err := zone.Parse("golden.example", []byte(goldenZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	texts["golden.example"], zones = goldenZone, append(zones, g)
	if err := f.b.Apply(testCtx(t), zones); err != nil {
		t.Fatal(err)
	}
	p := f.pdns(t)
	named := namedtest.Start(t, texts)
	var dz []dnsdiff.Zone
	for _, z := range zones {
		dz = append(dz, dnsdiff.Zone{Origin: z.Name.FQDN(), RRs: z.RRs()})
	}
	ps := dnsdiff.Probes(dz)
	res := pdnstest.Compare(ps, named.Addr, p.Addr)
	t.Logf("%d zones, %d probes: %d identical, %d differences beyond the documented ones", len(zones), res.Probes, res.Same, len(res.Unexplained))
	for reason, n := range res.Explained {
		t.Logf("%5d probes differ as documented: %s", n, reason)
	}
	for i, f := range res.Unexplained {
		if i == 4000 {
			t.Errorf("... and %d more", len(res.Unexplained)-i)
			break
		}
		t.Error(f)
	}
}

// withoutIncludes drops $INCLUDE lines for named: they name files on the
// DirectAdmin box, and dadns skips them too.
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
