package zonefile

import (
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// TestPlainTypes: delegations are plain only when asked for; CAA tags must
// be letters and digits; any other type makes a zone not plain.
func TestPlainTypes(t *testing.T) {
	parse := func(body string) *zone.Zone {
		t.Helper()
		z, err := zone.Parse("plain.example", []byte("$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"+body), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	for _, tc := range []struct {
		name, body        string
		plain, delegating bool // PlainTypes without and with delegations
	}{
		{"DirectAdmin-like", "@ MX 10 mail\nmail A 192.0.2.3\nwww CNAME @\n@ TXT \"v=spf1 -all\"\n_sip._tcp SRV 0 5 5060 sip\n@ CAA 0 issue \"ca.example\"\n1 PTR host.example.\n", true, true},
		{"apex NS in upper case", "PLAIN.EXAMPLE. NS ns2.example.net.\n", true, true},
		{"delegation", "sub NS ns1.elsewhere.example.\n", false, true},
		{"CAA tag with a dash", "@ CAA 0 is-sue \"ca.example\"\n", false, false},
		{"DNAME", "old DNAME new.example.\n", false, false},
	} {
		z := parse(tc.body)
		if got := PlainTypes(z, false); got != tc.plain {
			t.Errorf("%s: PlainTypes(z, false) = %v, want %v", tc.name, got, tc.plain)
		}
		if got := PlainTypes(z, true); got != tc.delegating {
			t.Errorf("%s: PlainTypes(z, true) = %v, want %v", tc.name, got, tc.delegating)
		}
	}
	for tag, want := range map[string]bool{"issue": true, "issuewild": true, "iodef": true, "": false, "is-sue": false, "tag0": true, "ä": false} {
		if got := CAATag(tag); got != want {
			t.Errorf("CAATag(%q) = %v, want %v", tag, got, want)
		}
	}
}
