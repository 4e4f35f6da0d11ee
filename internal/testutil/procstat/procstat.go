// Package procstat reads Linux's /proc/PID/stat for tests and the bench:
// a process's name, parent and group, and the CPU time it and the
// children it waited for used.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tick is USER_HZ, the unit of the CPU times: 1/100 s on Linux.
const tick = time.Second / 100

// Stat is what the bench and the tests read of one process.
type Stat struct {
	PID, PPID, PGRP int
	Comm            string
	// Self is the process's own user + system time; Children that of
	// the children it waited for (cutime + cstime).
	Self, Children time.Duration
}

// Parse reads one /proc/PID/stat line. The command name may hold spaces
// and parentheses: it runs from the first '(' to the last ')'.
func Parse(b []byte) (Stat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return Stat{}, fmt.Errorf("procstat: no command name in %.60q", b)
	}
	st := Stat{Comm: string(b[open+1 : end])}
	var err error
	if st.PID, err = strconv.Atoi(strings.TrimSpace(string(b[:open]))); err != nil {
		return Stat{}, fmt.Errorf("procstat: pid: %w", err)
	}
	// After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
	// cutime(13) cstime(14).
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 15 {
		return Stat{}, fmt.Errorf("procstat: %d fields after the name, want 15 or more", len(f))
	}
	var n [5]int64
	for j, i := range []int{1, 2, 11, 12, 13} {
		if n[j], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return Stat{}, fmt.Errorf("procstat: field %d: %w", i+3, err)
		}
	}
	cstime, err := strconv.ParseInt(f[14], 10, 64)
	if err != nil {
		return Stat{}, fmt.Errorf("procstat: field 17: %w", err)
	}
	st.PPID, st.PGRP = int(n[0]), int(n[1])
	st.Self = time.Duration(n[2]+n[3]) * tick
	st.Children = time.Duration(n[4]+cstime) * tick
	return st, nil
}

// Read reads process pid's stat.
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Stat{}, err
	}
	return Parse(b)
}

// All reads every process's stat; those that exit meanwhile are left out.
func All() []Stat {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	out := make([]Stat, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if st, err := Parse(b); err == nil {
			out = append(out, st)
		}
	}
	return out
}

// Own is this process's CPU time, user + system, and that of the children
// it waited for (spawned rndc, knotc, nsd-control runs), from getrusage:
// finer than /proc's ticks, for benchmarks that divide it per operation.
func Own() (self, children time.Duration, err error) {
	var s, c syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &s); err != nil {
		return 0, 0, err
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c); err != nil {
		return 0, 0, err
	}
	return used(&s), used(&c), nil
}

// SelfCPU is this process's CPU time, user + system, from getrusage (0
// when it cannot be read): what in-process benchmarks divide per
// operation.
func SelfCPU() time.Duration {
	var s syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &s); err != nil {
		return 0
	}
	return used(&s)
}

// used is the user + system time of a getrusage answer.
func used(r *syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
