package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCombineJoinsRowsAcrossSizes writes two reports of different zone
// counts and checks that rows naming the count meet in one line, that
// goals keep their marks per size, and that a row only one report has
// shows a dash for the other.
func TestCombineJoinsRowsAcrossSizes(t *testing.T) {
	dir := t.TempDir()
	mk := func(zones int, qps string, met bool, extra bool) string {
		r := &report{}
		r.fact("date", "2026-12-06 05:00 UTC")
		r.fact("command", "`bin/dadnsbench -zones %d`", zones)
		r.fact("workload", "%d zones (seed 1), 16 pushers", zones)
		r.add("cold load", "NSD: start → all "+itoa(uint32(zones))+" zones answer SOA", "1.00 s")
		r.addGoal("dns", "builtin / NSD QPS", goal{"≥ 1.00", met}, "%s", qps)
		r.add("memory", "holding "+itoa(uint32(zones))+" zones ("+itoa(uint32(zones*zoneRecords))+" records)", "x | y")
		if extra {
			r.add("flood", "only here", "1")
		}
		path := filepath.Join(dir, itoa(uint32(zones))+".md")
		if err := r.write(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a, b := mk(10000, "1.05", true, false), mk(100000, "0.90", false, true)
	out := filepath.Join(dir, "README.md")
	if err := combine([]string{a, b}, out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		"| area | measure | goal | 10,000 zones | 100,000 zones |\n",
		"| cold load | NSD: start → all N zones answer SOA |  | 1.00 s | 1.00 s |\n",
		"| dns | builtin / NSD QPS | ≥ 1.00 | 1.05 ✓ | 0.90 ✗ |\n",
		`| memory | holding N zones (18 N records) |  | x \| y | x \| y |`,
		"| flood | only here |  | — | 1 |\n",
		"command `bin/dadnsbench -zones 10000`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("combined table lacks %q:\n%s", want, got)
		}
	}
}
