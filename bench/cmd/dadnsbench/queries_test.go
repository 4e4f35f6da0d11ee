package main

import (
	"os"
	"path/filepath"
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

func TestWriteQueriesWritesDnsperfFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.txt")
	qs := []query{{"www.a.example.", "A"}, {"a.example.", "MX"}}
	if err := writeQueries(path, qs); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "www.a.example. A\na.example. MX\n"; string(got) != want {
		t.Fatalf("query file %q, want %q", got, want)
	}
}

func TestQueryLinesIsBounded(t *testing.T) {
	for _, tc := range []struct{ zones, want int }{{1, 20000}, {200, 20000}, {2000, 40000}, {50000, 200000}} {
		if got := queryLines(tc.zones); got != tc.want {
			t.Errorf("queryLines(%d) = %d, want %d", tc.zones, got, tc.want)
		}
	}
}
