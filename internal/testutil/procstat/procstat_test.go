package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	// A name with spaces and parentheses, as the kernel writes it.
	line := []byte("4242 (named (x) y) S 1 4240 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 12 0 100 1000 200 ...\n")
	st, err := Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{PID: 4242, PPID: 1, PGRP: 4240, Comm: "named (x) y", Self: 3 * time.Second, Children: 100 * time.Millisecond}
	if st != want {
		t.Fatalf("got %+v, want %+v", st, want)
	}
	for _, bad := range []string{"12 (short) S 1 2", "no name here", "x (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestReadAndAll(t *testing.T) {
	self, err := Read(os.Getpid())
	if err != nil || self.PID != os.Getpid() || self.PPID != os.Getppid() {
		t.Fatalf("Read(self) = %+v, %v", self, err)
	}
	found := false
	for _, st := range All() {
		found = found || st.PID == os.Getpid()
	}
	if !found {
		t.Fatal("All misses this process")
	}
}

// TestOwn: this process's CPU time grows with work, and matches /proc's
// figure for it to within a few ticks.
func TestOwn(t *testing.T) {
	self0, _, err := Own()
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	self1, children, err := Own()
	if err != nil {
		t.Fatal(err)
	}
	if self1 <= self0 || children < 0 {
		t.Fatalf("own CPU %v -> %v (children %v): did not grow with work", self0, self1, children)
	}
	st, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := st.Self - self1; d < -5*tick || d > 5*tick+time.Second {
		t.Fatalf("getrusage says %v, /proc says %v", self1, st.Self)
	}
	// SelfCPU is Own's first figure, read later: never below it.
	if cpu := SelfCPU(); cpu < self1 {
		t.Fatalf("SelfCPU %v after Own said %v", cpu, self1)
	}
}
