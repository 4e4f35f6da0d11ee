package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// rssGoalZones is the store size at which the issue sets the memory goal.
const rssGoalZones = 10000

// footprint reports dadns's peak memory and the size of its store.
func (b *bench) footprint() {
	s := b.dadns
	if s == nil {
		return
	}
	if err := s.proc.alive(); err != nil {
		b.rep.fail("dadns", "peak RSS (VmHWM)", err)
		return
	}
	if hwm, err := procStatus(s.proc.cmd.Process.Pid, "VmHWM"); err != nil {
		b.rep.fail("dadns", "peak RSS (VmHWM)", err)
	} else {
		b.rep.add("dadns", fmt.Sprintf("peak RSS (VmHWM), %d backends in the process", len(b.names)), "%s", mib(hwm))
		records := int64(len(b.zones) * zoneRecords)
		measure := fmt.Sprintf("peak RSS per stored record (%d zones × %d records)", len(b.zones), zoneRecords)
		if len(b.zones) < rssGoalZones { // fixed costs dominate a small store: the goal is set at 10,000 zones
			b.rep.add("dadns", measure, "%.0f bytes (goal applies from %s zones)", float64(hwm)/float64(records), thousands(rssGoalZones))
		} else {
			b.rep.addGoal("dadns", measure, goal{"≤ 1 KiB", hwm <= records<<10}, "%.0f bytes", float64(hwm)/float64(records))
		}
	}
	db, wal := fileSize(filepath.Join(s.dataDir, "dadns.db")), fileSize(filepath.Join(s.dataDir, "dadns.db-wal"))
	b.rep.add("dadns", "store: dadns.db + wal", "%s + %s = %s", mib(db), mib(wal), mib(db+wal))
}

// fileSize is a file's size, 0 when it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// procStatus returns a "Vm..." field of /proc/<pid>/status in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("dadnsbench: %s: %w", field, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("dadnsbench: %s: %w", field, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("dadnsbench: %s: not in /proc/%d/status", field, pid)
}
