package zone

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testdataZones returns the testdata/*.db inputs with their origins (the
// file name without ".db").
func testdataZones(t testing.TB) map[Name][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/*.db")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata zones: %v", err)
	}
	out := map[Name][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[Name(strings.TrimSuffix(filepath.Base(f), ".db"))] = b
	}
	return out
}

// render is what a golden file holds: the canonical text and the warnings,
// or the refusal.
func render(z *Zone, err error) string {
	var b strings.Builder
	if err != nil {
		b.WriteString(";; refused\n")
		for _, p := range Problems(err) {
			fmt.Fprintf(&b, ";; %s\n", p)
		}
		return b.String()
	}
	fmt.Fprintf(&b, ";; serial %d, %d records\n", z.Serial, len(z.Records))
	b.WriteString(z.Text())
	for _, w := range z.Warnings {
		fmt.Fprintf(&b, ";; warning: %s\n", w)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	for origin, text := range testdataZones(t) {
		t.Run(string(origin), func(t *testing.T) {
			z, err := Parse(origin, text, Limits{})
			if err != nil && Problems(err) == nil {
				t.Fatalf("refusal is not a *Error: %v", err)
			}
			got := render(z, err)
			path := filepath.Join("testdata", string(origin)+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatalf("%v (run go test -update)", rerr)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
			}
			if err == nil {
				checkZone(t, z)
			}
		})
	}
}

// checkZone asserts what every accepted zone must satisfy: its parts agree
// and its text parses back into the very same zone, without warnings.
func checkZone(t testing.TB, z *Zone) {
	t.Helper()
	if len(z.RRs()) != len(z.Records) {
		t.Fatalf("%d RRs for %d records", len(z.RRs()), len(z.Records))
	}
	var b strings.Builder
	for i, r := range z.Records {
		// miekg/dns prints an unknown type's class as CLASS1: compare
		// the other fields.
		f := strings.SplitN(z.RRs()[i].String(), "\t", 5)
		h := z.RRs()[i].Header()
		if len(f) != 5 || f[0] != r.Name || h.Ttl != r.TTL || f[3] != r.Type || f[4] != r.Data {
			t.Fatalf("RR %d is %q, record is %q", i, z.RRs()[i], r.String())
		}
		b.WriteString(r.String() + "\n")
	}
	if b.String() != z.Text() {
		t.Fatal("Text() is not the records' lines")
	}
	again, err := Parse(z.Name, []byte(z.Text()), Limits{MaxRecords: len(z.Records)})
	if err != nil {
		t.Fatalf("canonical text refused: %v\n%s", err, z.Text())
	}
	if again.Text() != z.Text() || again.Hash() != z.Hash() || again.Serial != z.Serial {
		t.Fatalf("round trip changed the zone:\n%s\nbecame\n%s", z.Text(), again.Text())
	}
	if len(again.Warnings) > 0 {
		t.Fatalf("canonical text gives warnings: %v", again.Warnings)
	}
	built, err := Build(z.Name, z.Records, Limits{})
	if err != nil || built.Hash() != z.Hash() {
		t.Fatalf("Build from the records: err %v, hash %s want %s", err, built.hashOrEmpty(), z.Hash())
	}
}

func (z *Zone) hashOrEmpty() string {
	if z == nil {
		return ""
	}
	return z.Hash()
}
