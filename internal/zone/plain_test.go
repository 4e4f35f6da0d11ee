package zone

import (
	"fmt"
	"reflect"
	"testing"
)

// TestPlainTextNeedsNoReadBack: canonicalRR skips reading back the text of
// plain records; every sample zone (and the fuzz snippets, and plain records
// on the edge of plain) is parsed both ways, with the same outcome.
func TestPlainTextNeedsNoReadBack(t *testing.T) {
	inputs := map[string][]byte{}
	for origin, text := range testdataZones(t) {
		inputs[string(origin)] = text
	}
	for i, snippet := range fuzzSnippets {
		inputs[fmt.Sprintf("snippet%d", i)] = []byte(head + snippet + "\n")
	}
	edges := []string{
		`x IN TXT "a;b" "(c)" "" "tab	in"`,
		`x IN TXT "quote\"inside" "back\\slash"`,
		`$x IN A 192.0.2.1`,
		`x IN MX 10 mail\;x`,
		`x IN AAAA ::ffff:192.0.2.1`,
		`x IN SRV 0 5 5060 sip.example.com.`,
		`x IN PTR a\@b.example.com.`,
		`x IN NS ns.Example.COM.`,
	}
	for i, e := range edges {
		inputs[fmt.Sprintf("edge%d", i)] = []byte(head + e + "\n")
	}
	plain := 0
	for name, text := range inputs {
		origin := Name("example.com")
		if n, err := ParseName(name); err == nil && len(name) > 8 {
			origin = n
		}
		fullReadback = false
		fast, ferr := Parse(origin, text, Limits{})
		fullReadback = true
		slow, serr := Parse(origin, text, Limits{})
		fullReadback = false
		if fmt.Sprint(ferr) != fmt.Sprint(serr) {
			t.Errorf("%s: without read-back %v, with %v", name, ferr, serr)
			continue
		}
		if ferr != nil {
			continue
		}
		plain++
		if fast.Text() != slow.Text() || !reflect.DeepEqual(fast.Records, slow.Records) || !reflect.DeepEqual(fast.Warnings, slow.Warnings) ||
			!reflect.DeepEqual(fast.rrs, slow.rrs) {
			t.Errorf("%s: zones differ:\n%s\n---\n%s", name, fast.Text(), slow.Text())
		}
	}
	if plain < 10 {
		t.Fatalf("only %d inputs parsed", plain)
	}
}
