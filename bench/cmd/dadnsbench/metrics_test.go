package main

import (
	"io"
	"syscall"
	"testing"
	"time"
)

func TestParseMetricsAndRRLCounters(t *testing.T) {
	m := parseMetrics(`# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 19
dadns_dns_rrl_responses_total{action="dropped",backend="builtin"} 87
dadns_dns_rrl_responses_total{action="limited",backend="builtin"} 170
dadns_dns_rrl_responses_total{action="slipped",backend="builtin"} 83
process_resident_memory_bytes 4.1e+07
`)
	if m["go_goroutines"] != 19 || m["process_resident_memory_bytes"] != 4.1e7 {
		t.Fatalf("parsed %v", m)
	}
	if v := m[`dadns_dns_rrl_responses_total{action="limited",backend="builtin"}`]; v != 170 {
		t.Fatalf("limited %v", v)
	}
}

func TestGroupMemoryFindsOwnProcess(t *testing.T) {
	rss, pss, n, err := groupMemory(syscallGetpgrp())
	if err != nil || n < 1 || rss <= 0 || pss <= 0 || pss > rss {
		t.Fatalf("rss %d pss %d procs %d: %v", rss, pss, n, err)
	}
}

func TestFlagsScaleAndCheckNewOptions(t *testing.T) {
	o, err := parseFlags([]string{"-zones", "100000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.loadTimeout != 100*time.Minute || o.timeout != 400*time.Minute {
		t.Fatalf("timeouts at 100,000 zones: load %s, run %s", o.loadTimeout, o.timeout)
	}
	o, err = parseFlags([]string{"-zones", "200", "-load-timeout", "1m"}, io.Discard)
	if err != nil || o.loadTimeout != time.Minute || o.timeout != 40*time.Minute {
		t.Fatalf("small run: %+v %v", o, err)
	}
	for _, bad := range [][]string{{"-serving", "v6,nope"}, {"-skip", "push"}, {"-flood-duration", "10ms"}, {"-burst-rate", "0"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := parseFlags([]string{"-serving", "", "-skip", "stores,flood,burst"}, io.Discard); err != nil {
		t.Fatal(err)
	}
}

func syscallGetpgrp() int { return syscall.Getpgrp() }
