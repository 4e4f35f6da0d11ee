package dnsserver

import (
	"fmt"
	"testing"
)

// TestApplyManyZonesAtOnce loads a thousand zones in one call (the
// restart path, indexed on every core) and reports the one it cannot
// serve instead of dropping it silently.
func TestApplyManyZonesAtOnce(t *testing.T) {
	srv := New(Options{Logger: quietLogger()})
	var set []*Zone
	for i := range 1000 {
		origin := fmt.Sprintf("z%d.example.", i)
		set = append(set, mustZone(t, origin, fmt.Sprintf("$TTL 60\n@ SOA ns1 h %d 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n", i+1)))
	}
	bad := mustZone(t, "nosoa.example.", "$TTL 60\n@ NS ns1\nns1 A 192.0.2.1\n")
	failed := srv.Apply(append(set, bad), nil)
	if len(failed) != 1 || failed["nosoa.example."] == nil {
		t.Fatalf("failed = %v, want nosoa.example. only", failed)
	}
	if got := len(srv.Origins()); got != 1000 {
		t.Fatalf("%d zones served, want 1000", got)
	}
	for _, z := range set {
		if h, ok := srv.Served(z.Origin); !ok || h != z.Hash {
			t.Fatalf("%s not served as given", z.Origin)
		}
	}
}
