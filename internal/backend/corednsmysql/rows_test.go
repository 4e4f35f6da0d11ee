package corednsmysql

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// TestMemoSameRows checks that records audited with a warm memo get the
// same rows, or are refused the same, as with a cold one, for the golden
// zone and every record form the zone package accepts.
func TestMemoSameRows(t *testing.T) {
	forms, err := os.ReadFile("../../dnsserver/testdata/zones/forms.test.db")
	if err != nil {
		t.Fatal(err)
	}
	var zones []*zone.Zone
	g, err := zone.Parse("golden.example", []byte(goldenZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := zone.Parse("forms.test", forms, zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	zones = append(zones, g)
	for _, r := range f.Records[2:] {
		one, err := zone.Build(f.Name, []zone.Record{f.Records[0], f.Records[1], r}, zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, one)
	}
	rows := func() []string {
		var out []string
		for _, z := range zones {
			s, err := Stored(z)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := rowsOf(s, defaultLimits)
			out = append(out, fmt.Sprint(rs, err))
		}
		return out
	}
	memo.Reset()
	cold := rows()
	n := memo.Len()
	if n == 0 {
		t.Fatal("nothing remembered")
	}
	if warm := rows(); !slices.Equal(cold, warm) {
		t.Fatalf("rows with a warm memo differ:\n%q\nwant\n%q", warm, cold)
	}
}

// TestPlainDataReadsBack checks that every record plainData takes, of
// zones of every shape, reads back as itself (as readsBack checks).
func TestPlainDataReadsBack(t *testing.T) {
	forms, err := os.ReadFile("../../dnsserver/testdata/zones/forms.test.db")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[zone.Name]string{"golden.example": goldenZone, "forms.test": string(forms)}
	texts["da.example"] = backendtest.Zone(t, "da.example", 2026120601).Text()
	files, err := filepath.Glob(filepath.Join("testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample zones found in testdata/zones (%v)", err)
	}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		texts[zone.Name(strings.TrimSuffix(filepath.Base(file), ".db"))] = string(text)
	}
	taken := map[string]bool{}
	for name, text := range texts {
		z, err := zone.Parse(name, []byte(text), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		apex := z.Name.FQDN()
		for _, r := range z.Records {
			if !mysqldb.PlainName(r.Name) || !plainData(r.Type, r.Data) {
				continue
			}
			taken[r.Type] = true
			w := row{host: relative(apex, r.Name), typ: r.Type, data: r.Data, ttl: int64(r.TTL)}
			if err := readsBack(apex, w, r); err != nil {
				t.Errorf("%s %s %s: %v", r.Name, r.Type, r.Data, err)
			}
		}
	}
	for _, typ := range []string{"NS", "CNAME", "PTR", "MX", "SRV", "SOA"} {
		if !taken[typ] {
			t.Errorf("no %s record taken by plainData", typ)
		}
	}
}
