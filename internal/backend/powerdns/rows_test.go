package powerdns

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// TestMemoSameRows checks that rows built from remembered record data
// (a warm memo) are the rows built from scratch, for every shape of zone.
func TestMemoSameRows(t *testing.T) {
	for name, text := range map[zone.Name]string{"types.example": typesZone, "golden.example": goldenZone} {
		z, err := zone.Parse(name, []byte(text), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Stored(z)
		if err != nil {
			t.Fatal(err)
		}
		memo.Reset()
		cold, err := rowsOf(s, defaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		n := memo.Len()
		if n == 0 {
			t.Fatalf("%s: nothing remembered", name)
		}
		warm, err := rowsOf(s, defaultLimits)
		if err != nil || !slices.Equal(cold, warm) {
			t.Fatalf("%s: rows from the memo differ (%v):\n%v\nwant\n%v", name, err, warm, cold)
		}
	}
}

// TestPlainRowAsContentOf checks that the columns plainRow writes without
// printing are those contentOf prints, and read back as the record, for
// every record it takes of zones of every shape.
func TestPlainRowAsContentOf(t *testing.T) {
	forms, err := os.ReadFile("../../dnsserver/testdata/zones/forms.test.db")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[zone.Name]string{"types.example": typesZone, "golden.example": goldenZone, "forms.test": string(forms)}
	texts["da.example"] = backendtest.Zone(t, "da.example", 2026120601).Text()
	taken := map[string]bool{}
	for name, text := range texts {
		z, err := zone.Parse(name, []byte(text), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range z.Records {
			rd, ok := plainRow(r.Type, r.Data)
			if !ok {
				continue
			}
			taken[r.Type] = true
			typ, prio, content, err := contentOf(z.RRs()[i])
			if err != nil || rd != (rdataRow{typ: typ, prio: prio, content: content}) {
				t.Errorf("%s %s %s: plainRow %+v, contentOf %q %d %q %v", r.Name, r.Type, r.Data, rd, typ, prio, content, err)
			}
			w := row{name: strings.TrimSuffix(r.Name, "."), typ: rd.typ, content: rd.content, ttl: int64(r.TTL), prio: rd.prio}
			if got, err := record(w); err != nil || got != r {
				t.Errorf("%s %s %s: reads back as %v, %v", r.Name, r.Type, r.Data, got, err)
			}
		}
	}
	for _, typ := range []string{"NS", "CNAME", "PTR", "MX", "SRV", "SOA"} {
		if !taken[typ] {
			t.Errorf("no %s record taken by plainRow", typ)
		}
	}
}
