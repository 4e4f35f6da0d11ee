package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// report collects what the bench measured, in the order measured.
type report struct {
	partial  string      // set while a checkpoint writes an unfinished report
	facts    [][2]string // the run's circumstances
	rows     [][4]string // area, measure, value, goal
	servers  []*target   // the QPS detail table
	problems []string
}

// fact records a circumstance of the run.
func (r *report) fact(key, format string, args ...any) {
	r.facts = append(r.facts, [2]string{key, fmt.Sprintf(format, args...)})
}

// add records one measurement that has no goal.
func (r *report) add(area, measure, format string, args ...any) {
	r.rows = append(r.rows, [4]string{area, measure, fmt.Sprintf(format, args...), ""})
}

// goal is a target the issue sets for a measure, and whether the run met it.
type goal struct {
	text string // e.g. "≤ 10 ms"
	met  bool
}

// String renders the goal's cell: ✓ or ✗, then the target.
func (g goal) String() string {
	if g.met {
		return "✓ " + g.text
	}
	return "✗ " + g.text
}

// addGoal records one measurement and how it stands against its goal.
func (r *report) addGoal(area, measure string, g goal, format string, args ...any) {
	r.rows = append(r.rows, [4]string{area, measure, fmt.Sprintf(format, args...), g.String()})
}

// fail records that a measurement could not be made, and why.
func (r *report) fail(area, measure string, err error) {
	r.add(area, measure, "FAILED (see problems)")
	r.problem(area + ": " + err.Error())
}

// problem records something wrong that the reader must see.
func (r *report) problem(text string) {
	r.problems = append(r.problems, text)
}

// markdown renders the report.
func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# dadns bench\n\n")
	if r.partial != "" {
		fmt.Fprintf(&b, "- status: **%s**\n", r.partial)
	}
	for _, f := range r.facts {
		fmt.Fprintf(&b, "- %s: %s\n", f[0], f[1])
	}
	b.WriteString("\n| area | measure | value | goal |\n|---|---|---|---|\n")
	for _, row := range r.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(row[0]), cell(row[1]), cell(row[2]), cell(row[3]))
	}
	r.serverTable(&b)
	if len(r.problems) > 0 {
		b.WriteString("\n## Problems\n\n")
		for _, p := range r.problems {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(p, "\n", "\n  "))
		}
	}
	return b.String()
}

// serverTable renders dnsperf's details for each server measured.
func (r *report) serverTable(b *strings.Builder) {
	if len(r.servers) == 0 {
		return
	}
	b.WriteString("\n| server | QPS, median round | rounds min – max | avg latency | sent | lost | response codes |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, t := range r.servers {
		if !t.measured() {
			fmt.Fprintf(b, "| %s | not measured | | | | | |\n", t.name)
			continue
		}
		m, lo, hi := medianRun(t.runs), t.runs[0].qps, t.runs[0].qps
		sent, lost := 0, 0
		for _, p := range t.runs {
			lo, hi = min(lo, p.qps), max(hi, p.qps)
			sent, lost = sent+p.sent, lost+p.lost
		}
		fmt.Fprintf(b, "| %s | %s | %s – %s | %s | %d | %d | %s |\n", t.name, thousands(m.qps), thousands(lo), thousands(hi),
			ms(m.avgLatency), sent, lost, cell(m.rcodes))
	}
}

// write saves the report to path, creating its directory.
func (r *report) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("dadnsbench: write report: %w", err)
	}
	if err := os.WriteFile(path, []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("dadnsbench: write report: %w", err)
	}
	return nil
}

// cell keeps a value inside its table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// secs formats a duration in seconds.
func secs(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// mib formats a byte count in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// thousands formats a rate as a whole number with comma-separated groups.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
