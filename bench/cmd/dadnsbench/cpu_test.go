package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBusySeconds(t *testing.T) {
	if got := busySeconds([]byte("cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 1 1 1 1\n")); got != 1.61 {
		t.Fatalf("busy %v s, want 1.61", got)
	}
}

func TestCPUUse(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := cpuSnapshot{at: t0, byComm: map[string]float64{"dadns": 1, "named": 2, "gone": 5}, children: map[string]float64{"dadns": 0.5}, busy: 10}
	b := cpuSnapshot{at: t0.Add(10 * time.Second), byComm: map[string]float64{"dadns": 9.5, "named": 2.05, "knotd": 1.2},
		children: map[string]float64{"dadns": 2.5}, busy: 20}
	got := cpuUse(a, b)
	if !strings.HasPrefix(got, "dadns 8.5 (children 2.0), knotd 1.2; over 10.0 s wall") {
		t.Fatalf("got %q", got)
	}
	// A live snapshot sees this test's own process.
	if s := takeCPU(); len(s.byComm) == 0 || s.busy <= 0 {
		t.Fatalf("snapshot %+v", s)
	}
}

// TestGroupCPU: a busy child in its own process group is counted in that
// group, and only there.
func TestGroupCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pgid := cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	for groupCPU(pgid) < 0.05 {
		if time.Now().After(deadline) {
			t.Fatalf("group %d: %.2f s of CPU after 20 s of a busy loop", pgid, groupCPU(pgid))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := groupCPU(1 << 30); got != 0 {
		t.Fatalf("a group that does not exist used %.2f s", got)
	}
}
