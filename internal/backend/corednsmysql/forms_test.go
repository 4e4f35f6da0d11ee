package corednsmysql

import (
	"os"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// TestAuditRecordForms audits, one by one, the records of the zone
// holding the forms the zone package accepts because named loads them
// (internal/zone/README.md): the plugin stores each as a row it reads back
// the same, except the two kept only in RFC 3597 generic form that its
// parser turns into another text (NULL, APL without items), which are
// refused with why.
func TestAuditRecordForms(t *testing.T) {
	text, err := os.ReadFile("../../dnsserver/testdata/zones/forms.test.db")
	if err != nil {
		t.Fatal(err)
	}
	z, err := zone.Parse("forms.test", text, zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]bool{}
	for _, r := range z.Records[2:] {
		one, err := zone.Build(z.Name, []zone.Record{z.Records[0], z.Records[1], r}, zone.Limits{})
		if err != nil {
			t.Fatalf("%s %s: %v", r.Name, r.Type, err)
		}
		if _, err := rowsOf(one, defaultLimits); err != nil {
			if !strings.Contains(err.Error(), "different record") {
				t.Errorf("%s %s: refused for %v", r.Name, r.Type, err)
			}
			refused[r.Type] = true
		}
	}
	if len(refused) != 2 || !refused["TYPE10"] || !refused["TYPE42"] {
		t.Errorf("refused types %v, want NULL (TYPE10) and empty APL (TYPE42) only", refused)
	}
}
