package zone

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// head is a valid zone start (lines 1-4); case lines start at line 5.
const head = "$TTL 3600\n" +
	"@\tIN\tSOA\tns1.hostco.example. hostmaster.example.com. 1 3600 3600 1209600 86400\n" +
	"@\tIN\tNS\tns1.hostco.example.\n" +
	"@\tIN\tNS\tns2.hostco.example.\n"

func withHead(lines ...string) string { return head + strings.Join(lines, "\n") + "\n" }

// want is an expected problem: its line and a part of its message.
type want struct {
	line int
	msg  string
}

func TestParseRefuses(t *testing.T) {
	long := func(n int) string { return `"` + strings.Repeat("x", n) + `"` }
	tests := []struct {
		name string
		text string
		lim  Limits
		want []want
	}{
		{"bad address", withHead("www IN A 192.0.2.300"), Limits{}, []want{{5, `bad A A: "192.0.2.300"`}}},
		{"unknown type", withHead("www IN FOO bar"), Limits{}, []want{{5, "unknown record type"}}},
		{"unknown type, no class", withHead("www 300 FOO bar"), Limits{}, []want{{5, "record type"}}},
		{"bad TTL", withHead("www 99999999999 IN A 192.0.2.1"), Limits{}, []want{{5, "bad TTL"}}},
		{"bad MX", withHead("@ IN MX mail"), Limits{}, []want{{5, "bad MX"}}},
		{"bad $TTL", withHead("$TTL forever", "www IN A 192.0.2.1"), Limits{}, []want{{5, "$TTL"}}},
		{"record without data", withHead("www IN A", "ftp IN A 192.0.2.1"), Limits{}, []want{{5, "record without data"}}},
		{"record without data at the end", head + "www IN A ", Limits{}, []want{{5, "A record without data"}}},
		{"truncated record at the end", head + "www IN A", Limits{}, []want{{5, ""}}},
		{"several syntax errors", withHead("a IN A 1.2.3", "b IN A 192.0.2.1", "c IN AAAA nope", "d IN MX 10", "e IN TXT \"ok\""), Limits{},
			[]want{{5, "bad A"}, {7, "bad AAAA"}, {8, ""}}},
		{"error inside a multi-line entry", withHead("x IN MX (", "  10", "  )", "y IN A bad"), Limits{},
			[]want{{7, "bad MX"}, {8, "bad A"}}},
		{"unbalanced parenthesis", withHead("x IN TXT ( \"a\"", "y IN A 192.0.2.1"), Limits{}, []want{{6, "unbalanced"}}},
		{"broken SOA", "@ IN SOA ns1. h. (\n 1\n 2\n bad\n 4 5 )\n@ IN NS ns1.\n", Limits{}, []want{{4, `bad SOA zone parameter: "bad"`}}},
		{"extra closing parenthesis", withHead("x IN A 192.0.2.1 )", "y IN A bad"), Limits{}, []want{{5, "extra closing brace"}, {6, "bad A"}}},
		{"$ORIGIN outside", withHead("$ORIGIN other.example.", "www IN A 192.0.2.1"), Limits{}, []want{{5, `$ORIGIN "other.example." is outside`}}},
		{"$ORIGIN parent", withHead("$ORIGIN com."), Limits{}, []want{{5, "outside"}}},
		{"class CH", withHead(`version CH TXT "1.0"`), Limits{}, []want{{5, "class CH"}}},
		{"class HS", withHead(`x HS A 192.0.2.1`), Limits{}, []want{{5, "class HS"}}},
		{"class NONE", withHead(`x NONE A 192.0.2.1`), Limits{}, []want{{5, "class NONE"}}},
		{"meta type", withHead(`x IN AXFR \# 0`), Limits{}, []want{{5, "type AXFR cannot appear"}}},
		{"OPT", withHead(`x IN TYPE41 \# 0`), Limits{}, []want{{5, "type OPT cannot appear"}}},
		{"no SOA", "@ IN NS ns1.hostco.example.\n", Limits{}, []want{{0, "no SOA record"}}},
		{"SOA below the apex", withHead("sub IN SOA ns1.hostco.example. h.example.com. 1 2 3 4 5"), Limits{}, []want{{5, "must be at the zone apex"}}},
		{"second SOA", withHead("@ IN SOA ns1.hostco.example. h.example.com. 2 2 3 4 5"), Limits{}, []want{{5, "second SOA record (the first is at line 2)"}}},
		{"no NS", "@ IN SOA ns1.hostco.example. h.example.com. 1 2 3 4 5\nsub IN NS ns1.hostco.example.\n", Limits{},
			[]want{{0, "no NS record at the zone apex"}}},
		{"CNAME at the apex", withHead("@ IN CNAME example.net."), Limits{}, []want{{5, "CNAME at the zone apex"}}},
		{"CNAME beside A", withHead("www IN A 192.0.2.1", "www IN CNAME example.net."), Limits{}, []want{{6, "beside other data (A at line 5)"}}},
		{"CNAME beside MX", withHead("www IN CNAME example.net.", "WWW IN MX 10 mail.example.net."), Limits{}, []want{{5, "beside other data (MX at line 6)"}}},
		{"two CNAMEs", withHead("www IN CNAME a.example.net.", "www IN CNAME b.example.net."), Limits{}, []want{{6, "second CNAME"}}},
		{"TXT of 256 bytes", withHead("x IN TXT " + long(256)), Limits{}, []want{{5, "TXT character-string of 256 bytes"}}},
		{"unquoted TXT of 256 bytes", withHead("x IN TXT " + strings.Repeat("y", 256)), Limits{}, []want{{5, "256 bytes"}}},
		{"SPF of 300 bytes", withHead("x IN SPF " + long(300)), Limits{}, []want{{5, "300 bytes"}}},
		{"long TXT inside parentheses", withHead("x IN TXT (", `  "short"`, "  "+long(256)+" )"), Limits{}, []want{{7, "256 bytes"}}},
		{"long TXT with escapes", withHead(`x IN TXT "` + strings.Repeat(`\065`, 256) + `"`), Limits{}, []want{{5, "256 bytes"}}},
		{"owner needing escapes", withHead(`a\(b IN A 192.0.2.1`), Limits{}, []want{{5, "zone files must escape"}}},
		{"owner starting with a dollar", withHead(`\$x IN A 192.0.2.1`), Limits{}, []want{{5, "would read as a directive"}}},
		{"record limit", withHead("a IN A 192.0.2.1", "b IN A 192.0.2.2"), Limits{MaxRecords: 4}, []want{{6, "more than 4 records"}}},
		{"record limit with $GENERATE", withHead("$GENERATE 1-60000 h$ A 192.0.2.1"), Limits{MaxRecords: 100}, []want{{5, "more than 100 records"}}},
		{"default record limit", withHead("$GENERATE 0-60000 h$ A 192.0.2.1"), Limits{}, []want{{5, "more than 50000 records"}}},
		{"bad $GENERATE", withHead("$GENERATE 1-3 h$ A 192.0.2.$$"), Limits{}, []want{{5, "bad A"}}},
		{"empty input", "", Limits{}, []want{{0, "no SOA record"}, {0, "no NS record"}}},
		{"whitespace only", "\n \t\n\r\n   \n", Limits{}, []want{{0, "no SOA record"}, {0, "no NS record"}}},
		{"comments only", "; nothing\n;here\n", Limits{}, []want{{0, "no SOA record"}, {0, "no NS record"}}},
		{"binary", "\x00\x01\x02\xff\xfe(\"\n\x00", Limits{}, []want{{1, `"\x00\x01\x02\xff\xfe"`}, {0, "no SOA"}, {0, "no NS"}}},
		{"problems of every kind at once", withHead(
			"www IN A 192.0.2.300",
			"ftp IN A 192.0.2.1",
			"ftp IN CNAME example.net.",
			"mail IN BOGUS data",
			"x IN TXT "+long(300),
			`@ CH TXT "chaos"`,
			"$ORIGIN elsewhere.example.",
		), Limits{}, []want{
			{5, "bad A A"}, {7, "CNAME at ftp.example.com. beside other data (A at line 6)"}, {8, "unknown record type"},
			{9, "300 bytes"}, {10, "class CH"}, {11, "outside the zone"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := Parse("example.com", []byte(tt.text), tt.lim)
			if err == nil {
				t.Fatalf("accepted:\n%s", z.Text())
			}
			got := Problems(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d: %v", len(got), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !hasProblem(got, w) {
					t.Errorf("missing problem %d %q in %v", w.line, w.msg, err)
				}
			}
			if !strings.HasPrefix(err.Error(), "zone example.com: ") {
				t.Errorf("error %q lacks the zone prefix", err)
			}
		})
	}
}

func hasProblem(ps []Problem, w want) bool {
	for _, p := range ps {
		if p.Line == w.line && strings.Contains(p.Msg, w.msg) {
			return true
		}
	}
	return false
}

func TestParseReportsEveryProblemExactly(t *testing.T) {
	text := withHead("a IN A 1.2.3", "b IN A 192.0.2.1", "c IN CNAME x.example.net.", "c IN TXT \"y\"", "d IN AAAA ::1::2")
	_, err := Parse("example.com", []byte(text), Limits{})
	want := `zone example.com: line 5: bad A A: "1.2.3"; line 7: CNAME at c.example.com. beside other data (TXT at line 8); ` +
		`line 9: bad AAAA AAAA: "::1::2"`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	var e *Error
	if !errors.As(fmt.Errorf("api: rawsave: %w", err), &e) || e.Zone != "example.com" || len(e.Problems) != 3 {
		t.Fatalf("errors.As through a wrap: %#v", e)
	}
}

func TestParseTooManyErrors(t *testing.T) {
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, fmt.Sprintf("h%d IN A bad", i))
	}
	_, err := Parse("example.com", []byte(withHead(lines...)), Limits{})
	ps := Problems(err)
	if len(ps) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d: %v", len(ps), maxProblems+1, err)
	}
	for i, p := range ps[:maxProblems] {
		if p.Line != 5+i {
			t.Errorf("problem %d at line %d, want %d", i, p.Line, 5+i)
		}
	}
	if last := ps[maxProblems]; !strings.Contains(last.Msg, "too many errors") {
		t.Errorf("last problem %q does not say too many errors", last.Msg)
	}
}

func TestParseInvalidOrigin(t *testing.T) {
	for _, origin := range []Name{"", "Example.com", "a..b", "a/b"} {
		if _, err := Parse(origin, []byte(head), Limits{}); Problems(err) == nil {
			t.Errorf("Parse with origin %q: err %v, want an *Error", origin, err)
		}
	}
}

func TestParseSkipsIncludes(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.db")
	if err := os.WriteFile(secret, []byte("leak IN A 192.0.2.99\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := withHead(
		"$INCLUDE "+secret,
		"www IN A 192.0.2.1",
		"  $include "+secret+" example.com.",
		"$Include",
		"$INCLUDE ( "+secret,
		"  )",
	)
	z, err := Parse("example.com", []byte(text), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(z.Text(), "leak") || strings.Contains(z.Text(), "192.0.2.99") {
		t.Fatalf("an included file was read:\n%s", z.Text())
	}
	wantLines := []int{5, 7, 8, 9}
	if len(z.Warnings) != len(wantLines) {
		t.Fatalf("warnings %v, want lines %v", z.Warnings, wantLines)
	}
	for i, w := range z.Warnings {
		if w.Line != wantLines[i] || !strings.Contains(w.Msg, "$INCLUDE") {
			t.Errorf("warning %d = %v, want an $INCLUDE warning at line %d", i, w, wantLines[i])
		}
	}
	if !strings.Contains(z.Warnings[0].Msg, secret) {
		t.Errorf("warning %q does not name the file", z.Warnings[0].Msg)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		records  int
		warnings []want
	}{
		{"minimal", head, 3, nil},
		{"CNAME beside RRSIG and NSEC", withHead(
			"www IN CNAME example.net.",
			"www IN RRSIG CNAME 13 3 3600 20250501000000 20250401000000 57512 example.com. AAAA",
			"www IN NSEC example.com. CNAME RRSIG NSEC",
		), 6, nil},
		{"TXT of 255 bytes", withHead(`x IN TXT "` + strings.Repeat("x", 255) + `"`), 4, nil},
		{"TXT of 255 escaped bytes", withHead(`x IN TXT "` + strings.Repeat(`\"`, 255) + `"`), 4, nil},
		{"out-of-zone records", withHead("www.example.net. IN A 192.0.2.1", "example.com.evil. IN A 192.0.2.1", "www IN A 192.0.2.2"), 4,
			[]want{{5, "www.example.net. A is outside the zone"}, {6, "example.com.evil. A is outside"}}},
		{"$ORIGIN inside", withHead("$ORIGIN sub.example.com.", "www IN A 192.0.2.1", "$ORIGIN deeper", "x IN A 192.0.2.2"), 5, nil},
		{"$ORIGIN in upper case", withHead("$ORIGIN SUB.Example.COM.", "www IN A 192.0.2.1"), 4, nil},
		{"record limit reached exactly", withHead("a IN A 192.0.2.1"), 4, nil},
		{"CRLF line ends", strings.ReplaceAll(withHead("www IN A 192.0.2.1"), "\n", "\r\n"), 4, nil},
		{"no final newline", head + "www IN A 192.0.2.1", 4, nil},
		{"mixed TTLs", withHead("www 300 IN A 192.0.2.1", "www 600 IN A 192.0.2.2"), 5, []want{{6, "TTL 600 differs"}}},
		{"occluded data", withHead("sub IN NS ns.sub", "ns.sub IN A 192.0.2.1", "sub IN MX 10 mail", "www.sub IN A 192.0.2.2"), 5,
			[]want{{7, "hidden by the delegation"}, {8, "below the delegation"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := Parse("example.com", []byte(tt.text), Limits{MaxRecords: 4 + len(tt.text)/1000 + 4})
			if err != nil {
				t.Fatal(err)
			}
			if len(z.Records) != tt.records {
				t.Errorf("%d records, want %d:\n%s", len(z.Records), tt.records, z.Text())
			}
			if len(z.Warnings) != len(tt.warnings) {
				t.Errorf("warnings %v, want %v", z.Warnings, tt.warnings)
			}
			for _, w := range tt.warnings {
				if !hasProblem(z.Warnings, w) {
					t.Errorf("missing warning %d %q in %v", w.line, w.msg, z.Warnings)
				}
			}
			checkZone(t, z)
		})
	}
}

func TestParseLimitIsExact(t *testing.T) {
	text := []byte(withHead("a IN A 192.0.2.1", "b IN A 192.0.2.2"))
	if _, err := Parse("example.com", text, Limits{MaxRecords: 5}); err != nil {
		t.Fatalf("5 records with a limit of 5: %v", err)
	}
	if _, err := Parse("example.com", text, Limits{MaxRecords: 4}); err == nil {
		t.Fatal("5 records with a limit of 4 accepted")
	}
}

// TestParseSamples checks the sample zones of shared/zones (copied into
// testdata): all accepted, and only secure.example has $INCLUDE lines.
func TestParseSamples(t *testing.T) {
	samples := map[Name]int{
		"2.0.192.in-addr.arpa": 0, "example.net": 0, "example.org": 0, "shop.example.net": 0, "secure.example": 2,
	}
	for origin, includes := range samples {
		text, err := os.ReadFile(filepath.Join("testdata", string(origin)+".db"))
		if err != nil {
			t.Fatal(err)
		}
		z, err := Parse(origin, text, Limits{})
		if err != nil {
			t.Errorf("%s: %v", origin, err)
			continue
		}
		if len(z.Warnings) != includes {
			t.Errorf("%s: warnings %v, want %d about $INCLUDE", origin, z.Warnings, includes)
		}
		for _, w := range z.Warnings {
			if !strings.Contains(w.Msg, "$INCLUDE") || !strings.Contains(w.Msg, "/var/named/Ksecure.example.+013+") {
				t.Errorf("%s: unexpected warning %v", origin, w)
			}
		}
	}
}

func TestParseCapsWarnings(t *testing.T) {
	var lines []string
	for i := 0; i < maxWarnings+30; i++ {
		lines = append(lines, fmt.Sprintf("h%d.example.net. IN A 192.0.2.1", i))
	}
	z, err := Parse("example.com", []byte(withHead(lines...)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(z.Warnings) != maxWarnings+1 || !strings.Contains(z.Warnings[maxWarnings].Msg, "30 more not shown") {
		t.Fatalf("%d warnings, last %v", len(z.Warnings), z.Warnings[len(z.Warnings)-1])
	}
}
