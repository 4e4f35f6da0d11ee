package nsdtest

import (
	"os"
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

// TestTLSControl starts NSD with its remote control over TLS, with keys
// made by nsd-control-setup (as an operator's) and by MakeKeys, and
// drives it with nsd-control.
func TestTLSControl(t *testing.T) {
	for _, setup := range []bool{false, true} {
		t.Run(map[bool]string{false: "MakeKeys", true: "nsd-control-setup"}[setup], func(t *testing.T) {
			n := Start(t, Options{TLS: true, SetupKeys: setup, Zones: map[string]string{"static.example": zoneText}})
			if n.Socket != "" || n.ControlAddr == "" {
				t.Fatalf("socket %q, control address %q", n.Socket, n.ControlAddr)
			}
			if out, err := n.Control("status"); err != nil || !strings.Contains(out, "version:") {
				t.Fatalf("status: %q %v", out, err)
			}
			conf, err := os.ReadFile(n.Conf)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(conf), "control-cert-file: \""+ControlCertFile+"\"") {
				t.Fatalf("nsd.conf does not name the keys relative to zonesdir:\n%s", conf)
			}
			n.Stop()
			if _, err := n.Control("status"); err == nil {
				t.Fatal("nsd-control reaches a stopped nsd")
			}
			n.Restart(t)
			if err := n.WaitZones([]string{"static.example"}, 10*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}
