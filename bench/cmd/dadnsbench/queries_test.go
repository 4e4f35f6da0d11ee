package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestQueryMixWeightsAddUpTo100(t *testing.T) {
	total := 0
	for _, k := range queryMix {
		total += k.weight
	}
	if total != 100 {
		t.Fatalf("query mix weights add up to %d, want 100", total)
	}
}

func TestQueriesStayInHostedZones(t *testing.T) {
	zones := generateZones(1, 30)
	hosted := map[string]bool{}
	for _, z := range zones {
		hosted[z.name+"."] = true
	}
	qs := makeQueries(1, zones, 5000)
	types := map[string]bool{}
	for _, q := range qs {
		if _, ok := dns.StringToType[q.qtype]; !ok {
			t.Fatalf("query %v: unknown type", q)
		}
		if !inHostedZone(q.name, hosted) {
			t.Fatalf("query %v is outside every generated zone", q)
		}
		types[q.qtype] = true
	}
	for _, typ := range []string{"A", "AAAA", "MX", "TXT", "SRV", "CAA"} {
		if !types[typ] {
			t.Errorf("no %s query in the mix", typ)
		}
	}
}

// inHostedZone reports whether name is at or below a hosted zone.
func inHostedZone(name string, hosted map[string]bool) bool {
	for n := name; n != ""; {
		if hosted[n] {
			return true
		}
		_, rest, ok := strings.Cut(n, ".")
		if !ok {
			return false
		}
		n = rest
	}
	return false
}

func TestWriteQueriesWritesDnsperfFormatAndSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.txt")
	zones := generateZones(3, 50)
	sample, err := writeQueries(path, 3, zones, 1000, 40)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all := makeQueries(3, zones, 1000)
	var want strings.Builder
	for _, q := range all {
		fmt.Fprintf(&want, "%s %s\n", q.name, q.qtype)
	}
	if string(got) != want.String() {
		t.Fatalf("query file differs from the drawn queries:\n%.300s\nwant\n%.300s", got, want.String())
	}
	if !slices.Equal(sample, sampleQueries(all, 40)) {
		t.Fatalf("sample %v, want %v", sample, sampleQueries(all, 40))
	}
}

func TestQueryLinesIsBounded(t *testing.T) {
	for _, tc := range []struct{ zones, want int }{{1, 20000}, {200, 20000}, {2000, 40000}, {50000, 500000}, {100000, 500000}} {
		if got := queryLines(tc.zones); got != tc.want {
			t.Errorf("queryLines(%d) = %d, want %d", tc.zones, got, tc.want)
		}
	}
}
