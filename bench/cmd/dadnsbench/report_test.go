package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportMarkdown(t *testing.T) {
	r := &report{}
	r.fact("machine", "%d × %s", 2, "Test CPU")
	r.add("push", "accepted / refused", "%d / %d", 10, 0) // rows are free text
	r.add("dns", "odd | value", "a|b")
	r.addGoal("dns", "builtin / NSD QPS", goal{"≥ 1.00", true}, "%.2f", 1.05)
	r.addGoal("push", "ack p99, C = 16", goal{"≤ 10 ms", false}, "%s", "12.00 ms")
	r.fail("cold load", "NSD", errors.New("nsd: exited\nlast lines"))
	r.servers = []*target{
		{name: "NSD", runs: []perfResult{{qps: 2000, sent: 10}, {qps: 1000, sent: 5, lost: 1}, {qps: 3000, sent: 20}}},
		{name: "BIND", err: errors.New("no")},
	}
	got := r.markdown()
	for _, want := range []string{
		"- machine: 2 × Test CPU\n",
		"| area | measure | value | goal |\n",
		"| push | accepted / refused | 10 / 0 |  |\n",
		`| dns | odd \| value | a\|b |  |`,
		"| dns | builtin / NSD QPS | 1.05 | ✓ ≥ 1.00 |\n",
		"| push | ack p99, C = 16 | 12.00 ms | ✗ ≤ 10 ms |\n",
		"| cold load | NSD | FAILED (see problems) |  |\n",
		"| NSD | 2,000 | 1,000 – 3,000 | 0.00 ms | 35 | 1 |",
		"| BIND | not measured |",
		"## Problems\n\n- cold load: nsd: exited\n  last lines\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	path := filepath.Join(t.TempDir(), "results", "latest.md")
	if err := r.write(path); err != nil {
		t.Fatal(err)
	}
	if saved, err := os.ReadFile(path); err != nil || string(saved) != got {
		t.Fatalf("saved report differs from the printed one (%v)", err)
	}
}
