package app

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC Serve's target is set; with GOGC the
// operator's value (already applied by the runtime) stays.
func TestTuneGC(t *testing.T) {
	was := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(was) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	tuneGC(getenv)
	if cur := debug.SetGCPercent(serveGCPercent); cur != serveGCPercent {
		t.Fatalf("GOGC unset: GC percent in force %d, want %d", cur, serveGCPercent)
	}

	env["GOGC"] = "200"
	debug.SetGCPercent(200) // what the runtime did at start with GOGC=200
	tuneGC(getenv)
	if cur := debug.SetGCPercent(200); cur != 200 {
		t.Fatalf("GOGC=200: GC percent in force %d, want 200", cur)
	}
}
