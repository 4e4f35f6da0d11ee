package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// describeRun records the machine, the tools' versions and the command.
func (b *bench) describeRun(ctx context.Context) {
	r := b.rep
	r.fact("date", "%s", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	r.fact("machine", "%d × %s, Linux %s", runtime.NumCPU(), cpuModel(), kernel())
	r.fact("go", "%s (bench); dadns binary built with %s", runtime.Version(), binGoVersion(b.opt.dadnsBin))
	r.fact("servers", "%s; %s; %s", firstLine(ctx, b.opt.nsdBin, "-v"), firstLine(ctx, b.opt.namedBin, "-v"), dnsperfVersion(ctx, b.opt.dnsperfBin))
	r.fact("command", "`%s`%s", strings.Join(os.Args, " "), quickNote())
	r.fact("commit", "%s (`git describe`); `dadns version`: %s", gitCommit(ctx), strings.TrimSpace(firstLine(ctx, b.opt.dadnsBin, "version")))
	b.loadBefore = loadAverage()
}

// describeLoad records how busy the machine was: other work on it skews
// every number, QPS most.
func (b *bench) describeLoad() {
	b.rep.fact("load average (1 min)", "%s at start, %s at end", b.loadBefore, loadAverage())
}

// loadAverage returns the 1-minute load average.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return firstField(string(data))
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown cpu"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown cpu"
}

// kernel returns the running kernel's release.
func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// binGoVersion returns the Go version a binary was built with.
func binGoVersion(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return info.GoVersion
}

// firstLine runs bin with args and returns the first line it prints.
func firstLine(ctx context.Context, bin string, args ...string) string {
	out := capture(ctx, bin, args...)
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return line
}

// dnsperfVersion finds "Version x.y.z" in dnsperf's help.
func dnsperfVersion(ctx context.Context, bin string) string {
	for line := range strings.Lines(capture(ctx, bin, "-h")) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version "); ok {
			return "dnsperf " + v
		}
	}
	return "dnsperf (version unknown)"
}

// capture returns what bin prints on stdout and stderr, within 5 s.
func capture(ctx context.Context, bin string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if len(out) == 0 && err != nil {
		return bin + ": " + err.Error()
	}
	return string(out)
}

// gitCommit returns the checkout's commit, "-dirty" when it has changes
// to tracked files.
func gitCommit(ctx context.Context) string {
	out := strings.TrimSpace(capture(ctx, "git", "describe", "--always", "--dirty", "--abbrev=12"))
	if out == "" || strings.Contains(out, "\n") || strings.Contains(out, ":") {
		return "unknown (not a git checkout)"
	}
	return out
}

// quickNote says when bench.sh ran the quick variant.
func quickNote() string {
	if os.Getenv("QUICK") == "1" {
		return " (QUICK=1)"
	}
	return ""
}
