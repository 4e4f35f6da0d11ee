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
