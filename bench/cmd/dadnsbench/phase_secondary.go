package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The secondary phase measures dadns as a hidden primary: a second dadns
// (builtin only, transfers on, a catalog zone, NOTIFY) and a BIND
// secondary configured with nothing but the catalog. Every zone is pushed
// to that dadns; the phase reports when the secondary serves them all
// (beside named's own cold load of the same files), then push → served on
// the secondary for single changes.

const (
	secondaryKey    = "bench-xfr"
	secondarySecret = "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC1iZW5jaA=="
	secondaryCat    = "catalog.dadns.invalid"
	// secondaryGoal is the push → served goal on the secondary.
	secondaryGoal = 200 * time.Millisecond
)

func (b *bench) secondaryPhase(ctx context.Context) {
	if ctx.Err() != nil || len(b.zones) == 0 {
		return
	}
	area := "secondary"
	dir := filepath.Join(b.tmp, "secondary")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.rep.fail(area, "setup", err)
		return
	}
	secPort, err := b.ports.Next()
	if err != nil {
		b.rep.fail(area, "setup", err)
		return
	}
	dnsPort, err := b.ports.Next()
	if err != nil {
		b.rep.fail(area, "setup", err)
		return
	}
	primaries := fmt.Sprintf(`primaries { 127.0.0.1 port %d key "%s"; }`, dnsPort, secondaryKey)
	conf := filepath.Join(dir, "named.conf")
	text := fmt.Sprintf(`key "%[1]s" { algorithm hmac-sha256; secret "%[2]s"; };
options {
	directory %[3]q;
	pid-file %[4]q;
	session-keyfile %[5]q;
	managed-keys-directory %[3]q;
	listen-on port %[6]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	catalog-zones { zone "%[7]s" default-%[8]s in-memory yes; };
	// BIND's defaults (2 transfers per primary, 20 SOA queries a second)
	// pace a catalog of thousands of new zones; a secondary of a large
	// catalog raises them, as the README says.
	transfers-in 100;
	transfers-per-ns 100;
	serial-query-rate 1000;
};
controls { };
zone "%[7]s" { type secondary; file "catalog.db"; %[8]s; };
`, secondaryKey, secondarySecret, dir, filepath.Join(dir, "named.pid"), filepath.Join(dir, "session.key"), secPort, secondaryCat, primaries)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		b.rep.fail(area, "setup", err)
		return
	}
	sec, err := b.procs.start("named-secondary", filepath.Join(dir, "named.log"), serverEnv(), b.opt.namedBin,
		"-g", "-c", conf, "-n", strconv.Itoa(b.opt.serverThreads))
	if err != nil {
		b.rep.fail(area, "BIND secondary start", err)
		return
	}
	defer sec.stop()
	transfers := fmt.Sprintf(`transfers:
  allow: [%[1]s]
  tsig_keys:
    - name: %[1]s
      secret: %[2]s
  notify: ["127.0.0.1:%[3]d"]
  notify_key: %[1]s
  catalog_zone: %[4]s
`, secondaryKey, secondarySecret, secPort, secondaryCat)
	s, err := b.startDadnsOn(ctx, filepath.Join(dir, "dadns"), dnsPort, transfers)
	if err != nil {
		b.rep.fail(area, "dadns (hidden primary) start", err)
		return
	}
	defer s.proc.stop()
	secAddr := loopback(secPort)
	slog.Info("hidden primary: pushing zones, waiting for the BIND secondary", "zones", len(b.zones))
	ectx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	start := time.Now()
	st := pushAll(ectx, s.da, b.zones, b.opt.pushers, make(chan int, len(b.zones)))
	if st.failed > 0 {
		b.rep.problem(fmt.Sprintf("secondary: %d pushes failed", st.failed))
	}
	seen, err := awaitServed(ectx, secAddr, b.zones, allIndices(len(b.zones)), sec.alive)
	if err != nil {
		b.rep.fail(area, "every zone served by the BIND secondary", err)
		return
	}
	all := latest(seen).Sub(start)
	measure := fmt.Sprintf("%d zones pushed to dadns → all served by a BIND secondary (catalog + NOTIFY)", len(b.zones))
	if cold, ok := b.coldLoad["BIND"]; ok && cold > 0 {
		b.rep.add(area, measure, "%s (named's own cold load of the files: %s, %.1f×)", secs(all), secs(cold), all.Seconds()/cold.Seconds())
	} else {
		b.rep.add(area, measure, "%s", secs(all))
	}
	probe := newUDPProber(secAddr).probe("secondary")
	var times []time.Duration
	samples := b.opt.servedSamples
	for i := range samples {
		idx := i % len(b.zones)
		z := b.zones[idx].withSerial(b.zones[idx].serial + 10 + uint32(i))
		pctx, pcancel := context.WithTimeout(ctx, servedTimeout)
		t0 := time.Now()
		if err := s.da.rawsave(pctx, z); err != nil {
			pcancel()
			b.rep.fail(area, "push-to-served on the secondary", err)
			return
		}
		if at, ok := awaitSerial(pctx, probe, z); ok {
			times = append(times, at.Sub(t0))
		}
		pcancel()
	}
	m := fmt.Sprintf("push → new serial served by the BIND secondary (NOTIFY, IXFR), median (p90) of %d", samples)
	if len(times) < samples {
		b.rep.add(area, m, "served %d of %d changes within %s", len(times), samples, servedTimeout)
		b.rep.problem(fmt.Sprintf("secondary: served only %d of %d changes", len(times), samples))
		return
	}
	med := percentile(times, 50)
	b.rep.addGoal(area, m, goal{"≤ " + ms(secondaryGoal), med <= secondaryGoal}, "%s (%s)", ms(med), ms(percentile(times, 90)))
}
