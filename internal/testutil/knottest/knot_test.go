package knottest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStartServesAndRestarts: a zone listed in Options.Zones is served;
// Stop makes the control socket and DNS go away; Restart brings both back
// on the same port and socket.
func TestStartServesAndRestarts(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "k.example.zone")
	text := "$TTL 300\n@ SOA ns1 h 7 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	k := Start(t, Options{Zones: map[string]string{"k.example": file}, AllowTransfer: true})
	if err := k.WaitServes("k.example", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	out, err := k.KnotcOutput("zone-status", "k.example")
	if err != nil || !strings.Contains(out, "serial: 7") {
		t.Fatalf("zone-status: %q, %v", out, err)
	}
	addr, sock := k.Addr, k.Socket
	k.Stop()
	if err := k.Knotc("status"); err == nil {
		t.Fatal("knotc status succeeds with knotd stopped")
	}
	k.Restart(t)
	if k.Addr != addr || k.Socket != sock {
		t.Fatalf("restart moved knotd: %s %s -> %s %s", addr, sock, k.Addr, k.Socket)
	}
	if err := k.WaitServes("k.example", 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
