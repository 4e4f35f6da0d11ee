package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/dadns/dadns/internal/testutil/procstat"
)

// groupMemory sums RSS and PSS (proportional set size: pages shared
// between the processes counted once in total) over every process of
// process group pgid, from /proc/*/smaps_rollup. NSD forks server
// processes that share its zone data, so their RSS alone counts it
// several times; PSS does not.
func groupMemory(pgid int) (rss, pss int64, procs int, err error) {
	for _, st := range procstat.All() {
		if st.PGRP != pgid {
			continue
		}
		r, p, ok := smapsRollup(fmt.Sprintf("/proc/%d/smaps_rollup", st.PID))
		if !ok {
			continue
		}
		rss, pss, procs = rss+r, pss+p, procs+1
	}
	if procs == 0 {
		return 0, 0, 0, fmt.Errorf("dadnsbench: no process in group %d", pgid)
	}
	return rss, pss, procs, nil
}

// smapsRollup returns the Rss and Pss lines of a smaps_rollup file, in bytes.
func smapsRollup(path string) (rss, pss int64, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "Rss":
			rss, ok = n<<10, true
		case "Pss":
			pss = n << 10
		}
	}
	return rss, pss, ok
}

// daemonMemory reports NSD's (and Knot's, BIND's) memory holding the same
// zones as the builtin-only dadns, and the builtin's relative to NSD's.
func (b *bench) daemonMemory(daemons []*target) {
	records := int64(len(b.zones) * zoneRecords)
	var nsdPss int64
	for _, t := range daemons {
		if t.proc == nil || t.err != nil || t.proc.alive() != nil {
			continue
		}
		rss, pss, n, err := groupMemory(t.proc.cmd.Process.Pid)
		if err != nil {
			b.rep.fail("memory", t.name+" memory", err)
			continue
		}
		b.rep.add("memory", fmt.Sprintf("%s holding the same %d zones: PSS (RSS summed over its %d processes)", t.name, len(b.zones), n),
			"%s (%s); %.0f bytes per record", mib(pss), mib(rss), float64(pss)/float64(records))
		if t.name == "NSD" {
			nsdPss = pss
		}
	}
	b.nsdPSS = nsdPss
	if nsdPss > 0 && b.servingRSS > 0 {
		r := float64(b.servingRSS) / float64(nsdPss)
		b.rep.addGoal("memory", "builtin-only dadns RSS / NSD's PSS, same zones, same run", goal{"≤ 2×", r <= 2}, "%.2f×", r)
	}
}
