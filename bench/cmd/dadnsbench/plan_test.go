package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPlanMixesExistsChecksIn(t *testing.T) {
	b := &bench{opt: options{latencyPushes: 20, existsEvery: 4}, current: generateZones(1, 30)}
	reqs := b.plan(7)
	if len(reqs) != 20 {
		t.Fatalf("got %d requests, want 20", len(reqs))
	}
	for k, r := range reqs {
		if r.exists != (k%4 == 3) {
			t.Errorf("request %d: exists = %t", k, r.exists)
		}
	}
	if reqs[0].zone != 7 || reqs[1].zone != 8 {
		t.Errorf("pushes start at zones %d, %d; want the cursor's, 7, 8", reqs[0].zone, reqs[1].zone)
	}
}

func TestPlanPushesEachZoneOnce(t *testing.T) {
	b := &bench{opt: options{latencyPushes: 20, existsEvery: 4}, current: generateZones(1, 10)}
	pushed := map[int]bool{}
	for _, r := range b.plan(7) {
		if r.exists {
			continue
		}
		if pushed[r.zone] {
			t.Errorf("zone %d pushed twice in one run", r.zone)
		}
		pushed[r.zone] = true
	}
	if len(pushed) != 10 {
		t.Errorf("%d zones pushed, want all 10", len(pushed))
	}
}

func TestWithSerialChangesOnlyTheSerial(t *testing.T) {
	z := generateZones(3, 1)[0]
	n := z.withSerial(z.serial + 1)
	if n.serial != z.serial+1 || n.name != z.name {
		t.Fatalf("got %s %d", n.name, n.serial)
	}
	old := strings.Replace(z.text(), itoa(z.serial), itoa(z.serial+1), 1)
	if n.text() != old {
		t.Fatalf("text differs beyond the serial:\n%s\n%s", z.text(), n.text())
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func TestBackendStateDone(t *testing.T) {
	for _, c := range []struct {
		s    backendState
		want bool
	}{
		{backendState{Applied: 5}, true},
		{backendState{Applied: 4}, false},
		{backendState{Applied: 5, Behind: 1}, false},
		{backendState{Applied: 5, Failing: 1}, false},
		{backendState{Applied: 5, Permanent: 1}, false},
	} {
		if got := c.s.done(5); got != c.want {
			t.Errorf("%+v: done = %t, want %t", c.s, got, c.want)
		}
	}
}

func TestStatusPollStaysWithinBounds(t *testing.T) {
	now := time.Now()
	for since, want := range map[time.Duration]time.Duration{
		0: 50 * time.Millisecond, 10 * time.Second: 500 * time.Millisecond, time.Hour: time.Second,
	} {
		got := statusPoll(now.Add(-since))
		if got < want || got > want+50*time.Millisecond {
			t.Errorf("after %s: poll every %s, want about %s", since, got, want)
		}
	}
}

func TestParseFlagsRejectsUnknownBackendAndBadConcurrency(t *testing.T) {
	var errs strings.Builder
	if _, err := parseFlags([]string{"-backends", "bind,knotd"}, &errs); err == nil || !strings.Contains(err.Error(), "knotd") {
		t.Errorf("unknown backend: %v", err)
	}
	if _, err := parseFlags([]string{"-concurrency", "1,0"}, &errs); err == nil {
		t.Error("concurrency 0 accepted")
	}
	o, err := parseFlags([]string{"-backends", "", "-concurrency", "2, 8"}, &errs)
	if err != nil {
		t.Fatal(err)
	}
	levels, _ := o.levels()
	extra, _ := o.extraBackends()
	if len(levels) != 2 || levels[1] != 8 || len(extra) != 0 {
		t.Errorf("levels %v, backends %v", levels, extra)
	}
}

// TestServedPollFor checks the main run's poll intervals: the builtin's
// 5 ms goal is timed to the millisecond, slower goals more coarsely.
func TestServedPollFor(t *testing.T) {
	for name, want := range map[string]time.Duration{
		"builtin": time.Millisecond, "mysql_dc1": 2 * time.Millisecond,
		"bind": 4 * time.Millisecond, "pdns_replica_dns": 4 * time.Millisecond, "unknown": time.Millisecond,
	} {
		if got := servedPollFor(name); got != want {
			t.Errorf("servedPollFor(%q) = %v, want %v", name, got, want)
		}
	}
}
