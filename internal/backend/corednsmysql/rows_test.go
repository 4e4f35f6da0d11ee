package corednsmysql

import (
	"fmt"
	"os"
	"slices"
	"testing"

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
	memo.mu.Lock()
	memo.m = nil
	memo.mu.Unlock()
	cold := rows()
	memo.mu.Lock()
	n := len(memo.m)
	memo.mu.Unlock()
	if n == 0 {
		t.Fatal("nothing remembered")
	}
	if warm := rows(); !slices.Equal(cold, warm) {
		t.Fatalf("rows with a warm memo differ:\n%q\nwant\n%q", warm, cold)
	}
}

func TestPlainName(t *testing.T) {
	for name, want := range map[string]bool{
		"example.": true, "*.wild.example.": true, "_sip._tcp.x-y.example.": true, "a.": true,
		"": false, ".": false, "example": false, "a..b.": false, "Upper.example.": false, `a\.b.example.`: false,
		"a b.example.": false, "a@b.example.": false, string(make([]byte, 64)) + ".": false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.": false, // 64
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.":  true,  // 63
	} {
		if got := plainName(name); got != want {
			t.Errorf("plainName(%q) = %v, want %v", name, got, want)
		}
	}
}
