package main

import (
	"testing"
	"time"
)

// dnsperfOutput is what dnsperf 2.10.0 prints for a one-second run.
const dnsperfOutput = `DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 43361 -d queries.txt -l 1 -c 8 -T 2
[Status] Sending queries (to 127.0.0.1:43361)
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         34045
  Queries completed:    34045 (100.00%)
  Queries lost:         7 (0.02%)

  Response codes:       NOERROR 30588 (89.85%), NXDOMAIN 3457 (10.15%)
  Average packet size:  request 35, response 124
  Run time (s):         1.009281
  Queries per second:   33731.933921

  Average Latency (s):  0.002448 (min 0.000021, max 0.043256)
  Latency StdDev (s):   0.003706
`

func TestParseDnsperf(t *testing.T) {
	r, err := parseDnsperf(dnsperfOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := perfResult{
		qps: 33731.933921, sent: 34045, completed: 34045, lost: 7,
		avgLatency: 2448 * time.Microsecond,
		rcodes:     "NOERROR 30588 (89.85%), NXDOMAIN 3457 (10.15%)",
	}
	if r != want {
		t.Fatalf("parsed %+v, want %+v", r, want)
	}
}

func TestParseDnsperfWithoutStatisticsFails(t *testing.T) {
	if _, err := parseDnsperf("Error: invalid argument -T\n"); err == nil {
		t.Fatal("no error for output without statistics")
	}
}

func TestMedianRun(t *testing.T) {
	runs := []perfResult{{qps: 30}, {qps: 10}, {qps: 20}}
	if got := medianRun(runs).qps; got != 20 {
		t.Errorf("median of 30, 10, 20 = %v, want 20", got)
	}
	if got := medianRun(runs[:2]).qps; got != 10 {
		t.Errorf("median of 30, 10 = %v, want the lower, 10", got)
	}
}
