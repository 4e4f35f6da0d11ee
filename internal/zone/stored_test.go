package zone

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestFromCanonicalMatchesParse rebuilds every golden zone from its
// canonical text and compares it with what Parse made.
func TestFromCanonicalMatchesParse(t *testing.T) {
	files, err := filepath.Glob("testdata/*.db")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := Name(strings.TrimSuffix(filepath.Base(f), ".db"))
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(name, text, Limits{})
		if err != nil {
			continue // refused zones have no canonical text
		}
		got, err := FromCanonical(name, want.Text(), want.Hash())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Serial != want.Serial || !reflect.DeepEqual(got.Records, want.Records) || got.Text() != want.Text() {
			t.Fatalf("%s: rebuilt zone differs", name)
		}
		for i, rr := range got.RRs() {
			if rr.String() != want.RRs()[i].String() {
				t.Fatalf("%s: record %d: %s, want %s", name, i, rr, want.RRs()[i])
			}
		}
	}
}

// TestFromCanonicalRefusesOtherText refuses a wrong hash and text that is
// not canonical.
func TestFromCanonicalRefusesOtherText(t *testing.T) {
	z, err := Parse("dkim.example", mustRead(t, "testdata/dkim.example.db"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromCanonical(z.Name, z.Text(), strings.Repeat("0", 64)); err == nil {
		t.Fatal("wrong hash accepted")
	}
	bad := "$TTL 60\n" + z.Text()
	if _, err := FromCanonical(z.Name, bad, hashOf(bad)); err == nil {
		t.Fatal("non-canonical text accepted")
	}
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkFromCanonical(b *testing.B) {
	z, err := Parse("dkim.example", func() []byte { x, _ := os.ReadFile("testdata/dkim.example.db"); return x }(), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromCanonical(z.Name, z.Text(), z.Hash()); err != nil {
			b.Fatal(err)
		}
	}
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestFromCanonicalForms rebuilds the zone of record forms named loads,
// IPSECKEY (which the zone parser reads past) included.
func TestFromCanonicalForms(t *testing.T) {
	want, err := Parse("forms.test", mustRead(t, "../dnsserver/testdata/zones/forms.test.db"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromCanonical(want.Name, want.Text(), want.Hash())
	if err != nil {
		t.Fatal(err)
	}
	for i, rr := range got.RRs() {
		if rr.String() != want.RRs()[i].String() {
			t.Fatalf("record %d: %s, want %s", i, rr, want.RRs()[i])
		}
	}
}

// TestFromRRsAfterWire rebuilds every golden zone from its records after
// a trip through wire format (as the builtin server keeps them, names
// compressed within the zone) and checks that it is the zone Parse made;
// a record changed on the way fails the hash.
func TestFromRRsAfterWire(t *testing.T) {
	files, err := filepath.Glob("testdata/*.db")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		name := Name(strings.TrimSuffix(filepath.Base(f), ".db"))
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(name, text, Limits{})
		if err != nil {
			continue
		}
		buf := make([]byte, 1<<20)
		comp := map[string]int{}
		off := 0
		for _, rr := range want.RRs() {
			if off, err = dns.PackRR(rr, buf, off, comp, true); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		var rrs []dns.RR
		for o := 0; o < off; {
			rr, next, err := dns.UnpackRR(buf[:off], o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rrs, o = append(rrs, rr), next
		}
		got, err := FromRRs(name, rrs, want.Hash())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Text() != want.Text() || !reflect.DeepEqual(got.Records, want.Records) {
			t.Fatalf("%s: rebuilt zone differs", name)
		}
		if len(rrs) > 1 {
			rrs[1] = rrs[0]
			if _, err := FromRRs(name, rrs, want.Hash()); err == nil {
				t.Fatalf("%s: a changed record still matches the hash", name)
			}
		}
		n++
	}
	if n == 0 {
		t.Fatal("no zone checked")
	}
}
