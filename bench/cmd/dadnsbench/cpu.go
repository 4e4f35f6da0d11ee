package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/testutil/procstat"
)

// cpuSnapshot is the CPU time every process on the machine has used, by
// command name, children it waited for included, and the machine's busy
// time: two of them around a phase say where the CPU went (dadns, the
// backends' daemons, the bench itself).
type cpuSnapshot struct {
	at       time.Time
	byComm   map[string]float64 // seconds, children waited for included
	children map[string]float64 // seconds of those children alone
	busy     float64            // seconds, all CPUs, /proc/stat
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on Linux.
const clockTicks = 100

func takeCPU() cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), byComm: map[string]float64{}, children: map[string]float64{}}
	for _, st := range procstat.All() {
		s.byComm[st.Comm] += (st.Self + st.Children).Seconds()
		s.children[st.Comm] += st.Children.Seconds()
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		s.busy = busySeconds(b)
	}
	return s
}

// groupCPU is the CPU time, in seconds, of every process in process group
// pgid (a daemon the bench started and what it forked), children waited
// for included.
func groupCPU(pgid int) float64 {
	var secs float64
	for _, st := range procstat.All() {
		if st.PGRP == pgid {
			secs += (st.Self + st.Children).Seconds()
		}
	}
	return secs
}

// busySeconds reads the first line of /proc/stat: every CPU's time but
// idle and iowait.
func busySeconds(b []byte) float64 {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / clockTicks
}

// cpuUse is what happened between two snapshots: seconds by command
// (largest first, those under 0.1 s left out), the wall time and how busy
// the machine was.
func cpuUse(a, b cpuSnapshot) string {
	type use struct {
		comm       string
		secs, kids float64
	}
	var us []use
	for comm, v := range b.byComm {
		if d := v - a.byComm[comm]; d >= 0.1 {
			us = append(us, use{comm, d, b.children[comm] - a.children[comm]})
		}
	}
	slices.SortFunc(us, func(x, y use) int {
		switch {
		case x.secs > y.secs:
			return -1
		case x.secs < y.secs:
			return 1
		}
		return strings.Compare(x.comm, y.comm)
	})
	wall := b.at.Sub(a.at).Seconds()
	parts := make([]string, 0, len(us))
	for _, u := range us {
		if u.kids >= 0.1 {
			parts = append(parts, fmt.Sprintf("%s %.1f (children %.1f)", u.comm, u.secs, u.kids))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f", u.comm, u.secs))
	}
	busy := 0.0
	if wall > 0 {
		busy = 100 * (b.busy - a.busy) / (wall * float64(runtime.NumCPU()))
	}
	return fmt.Sprintf("%s; over %.1f s wall on %d CPUs, machine busy %.0f %%", strings.Join(parts, ", "), wall, runtime.NumCPU(), busy)
}
