package zone

import (
	"os"
	"testing"

	"github.com/miekg/dns"
)

// maxParseAllocs bounds the allocations of one Parse of the DirectAdmin
// zone in testdata/dkim.example.db (24 records, a split DKIM key). Every
// push pays them, and the garbage collector after them: 1,132 (76 KB)
// before the scanner cut its words from one copy of the text and the
// canonical text, keys and checks stopped building a string or map entry
// per record, and plain records skipped the wire round trip; about 600
// (54 KB) after; about 26 (14 KB) once the fast path (fast.go) read such
// zones without miekg/dns's zone parser.
const maxParseAllocs = 40

func TestParseAllocations(t *testing.T) {
	text, err := os.ReadFile("testdata/dkim.example.db")
	if err != nil {
		t.Fatal(err)
	}
	var z *Zone
	n := testing.AllocsPerRun(50, func() {
		z, err = Parse("dkim.example", text, Limits{})
	})
	if err != nil || len(z.Records) != 24 {
		t.Fatalf("parse: %v", err)
	}
	t.Logf("%.0f allocations per Parse", n)
	if n > maxParseAllocs {
		t.Fatalf("Parse allocates %.0f times per zone, want at most %d", n, maxParseAllocs)
	}
}

// TestScannerWordsShareText: words whose bytes lie together in the text
// are cut from one copy of it; a word glued across lines inside
// parentheses, or with quotes removed around it, still reads as the lexer
// sees it.
func TestScannerWordsShareText(t *testing.T) {
	text := []byte("www 3600 IN TXT \"a b\" (\n  \"c\" )\n@ IN MX (10\nmail)\n")
	es := scanEntries(text)
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2", len(es))
	}
	var got []string
	for _, e := range es {
		for _, tk := range e.toks {
			got = append(got, tk.text)
		}
	}
	want := []string{"www", "3600", "IN", "TXT", "a b", "c", "@", "IN", "MX", "10mail"}
	if len(got) != len(want) {
		t.Fatalf("words %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("words %q, want %q", got, want)
		}
	}
	if es[1].toks[0].line != 3 || es[0].toks[5].line != 2 {
		t.Fatalf("lines: %+v", es)
	}
}

// TestEmptyRdataCommonTypes: the shortcut for common types agrees with
// comparing against a zero record, for records with and without data.
func TestEmptyRdataCommonTypes(t *testing.T) {
	for _, s := range []string{"x. 60 IN A 192.0.2.1", "x. 60 IN AAAA ::1", "x. 60 IN NS ns.x.",
		"x. 60 IN CNAME y.x.", "x. 60 IN MX 0 .", "x. 60 IN MX 10 mail.x.", `x. 60 IN TXT ""`, `x. 60 IN TXT "a"`} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(s, err)
		}
		zero := dns.TypeToRR[rr.Header().Rrtype]()
		*zero.Header() = *rr.Header()
		if emptyRdata(rr) || !emptyRdata(zero) {
			t.Errorf("%s: emptyRdata %v, of its zero record %v", s, emptyRdata(rr), emptyRdata(zero))
		}
	}
}
