package zone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseStringAsParse: ParseString gives what Parse gives for every
// sample zone (fast path and general), for refused zones (the same
// problems) and for texts the fast path leaves to the general one.
func TestParseStringAsParse(t *testing.T) {
	files, err := filepath.Glob("testdata/*.db")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample zones: %v", err)
	}
	type sample struct{ origin, text string }
	var samples []sample
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, sample{strings.TrimSuffix(filepath.Base(f), ".db"), string(b)})
	}
	soa := "@ 3600 IN SOA ns1.x.example. h.x.example. 1 3600 600 1209600 300\n@ 3600 IN NS ns1.x.example.\n"
	samples = append(samples,
		sample{"x.example", soa + "txt 3600 IN TXT \"a\\\"b\"\n"},                // a backslash: the general path
		sample{"x.example", strings.ReplaceAll(soa, "\n", "\r\n")},               // CR LF: the general path
		sample{"x.example", soa + "www 3600 IN A 192.0.2.300\n"},                 // refused
		sample{"x.example", "www 3600 IN A 192.0.2.1\n"},                         // no SOA: refused
		sample{"x.example", soa + "$INCLUDE /etc/passwd\nw 60 IN A 192.0.2.1\n"}, // a warning
	)
	for _, s := range samples {
		name, err := ParseName(s.origin)
		if err != nil {
			t.Fatalf("%s: %v", s.origin, err)
		}
		want, wantErr := Parse(name, []byte(s.text), Limits{})
		got, gotErr := ParseString(name, s.text, Limits{})
		if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
			t.Fatalf("%s: ParseString error %v, Parse error %v", s.origin, gotErr, wantErr)
		}
		if wantErr != nil {
			continue
		}
		if got.Text() != want.Text() || got.Hash() != want.Hash() || got.Serial != want.Serial ||
			len(got.Records) != len(want.Records) || len(got.Warnings) != len(want.Warnings) {
			t.Fatalf("%s: ParseString gives another zone:\n%s\nParse:\n%s", s.origin, got.Text(), want.Text())
		}
	}
}
