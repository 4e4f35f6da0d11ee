package nsdtest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const zoneText = "$TTL 300\n@ SOA ns1 h 7 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"

// TestStartStopRestart starts NSD with a static zone, adds one at run time
// through the pattern, and serves both again after a restart.
func TestStartStopRestart(t *testing.T) {
	n := Start(t, Options{Zones: map[string]string{"static.example": zoneText}, Include: filepath.Join(t.TempDir(), "inc.conf")})
	if err := writeFile(filepath.Join(n.ZonesDir, "added.example.db"), zoneText); err != nil {
		t.Fatal(err)
	}
	if out, err := n.Control("addzone", "added.example", PatternName); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("addzone: %q %v", out, err)
	}
	if err := n.WaitZones([]string{"static.example", "added.example"}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	n.Stop()
	if _, err := n.Control("status"); err == nil {
		t.Fatal("nsd-control reaches a stopped nsd")
	}
	n.Restart(t)
	if err := n.WaitZones([]string{"static.example", "added.example"}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
