package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/testutil/freeport"
)

// bench is one run: its options, temporary directory, started processes
// and the report being filled.
type bench struct {
	opt        options
	tmp        string
	procs      *procSet
	ports      freeport.Picker
	rep        *report
	zones      []*benchZone
	queries    []query // a sample of the query file, for the answers phase
	zoneDir    string
	queryFile  string
	dadns      *dadnsServer
	loadBefore string         // the load average when the run started
	names      []string       // dadns backend instances under test, builtin first
	bindHost   *bindHost      // the bind backend's named, if under test
	marias     []*mariaServer // the coredns_mysql backends' databases
	knotHost   *knotHost      // the knot backend's knotd, if under test
	pdns       *pdnsSetup     // the powerdns backends' databases, replica and readers
	current    []*benchZone   // each zone as last pushed (b.zones are as first pushed, and on disk)
	e2e        map[string]time.Duration
	coldLoad   map[string]time.Duration // NSD's and BIND's, by target name
	servingRSS int64                    // the deployed builtin-only dadns's RSS holding every zone
	nsdPSS     int64                    // NSD's PSS holding every zone (daemonMemory)
}

// target is a DNS server whose queries per second are measured.
type target struct {
	name string
	port int
	addr string
	err  error        // why it cannot be measured
	proc *proc        // the daemon's process, if the bench started it for this
	runs []perfResult // one per dnsperf round
}

// run measures everything, in order; a failed step is reported and the
// steps that do not depend on it still run. The report is written after
// every phase, so a run cut short (-timeout, a signal, a kill) leaves the
// phases it finished on disk.
func (b *bench) run(ctx context.Context) {
	b.describeRun(ctx)
	defer b.describeLoad()
	if err := b.prepare(); err != nil {
		b.rep.fail("zones", "generated", err)
		return
	}
	if b.onlyPhases(ctx) {
		return
	}
	skip := b.opt.skipped()
	backends := b.backendsPhase(ctx)
	b.pushPhase(ctx, backends)
	b.checkpoint("push")
	if !skip["latency"] {
		b.latencyPhase(ctx)
		b.checkpoint("ack latency")
	}
	if !skip["served"] {
		b.servedPhase(ctx)
		b.checkpoint("push-to-served")
	}
	b.footprint()
	daemons := b.daemonPhase(ctx)
	b.reportBindVsCold()
	b.checkpoint("cold load")
	serving := b.servingPhase(ctx)
	b.daemonMemory(daemons)
	b.checkpoint("serving")
	b.answerPhase(ctx, serving, daemons)
	b.qpsPhase(ctx, serving, daemons)
	b.checkpoint("dns")
	b.burstPhase(ctx, serving)
	b.checkpoint("burst")
	b.floodPhase(ctx, serving, daemons)
	b.checkpoint("flood")
	b.stopServers(serving, daemons) // their memory is not needed any more
	if !skip["secondary"] {
		b.secondaryPhase(ctx)
		b.checkpoint("secondary")
	}
	if !skip["restart"] {
		b.restartPhase(ctx)
		b.checkpoint("restart")
	}
	if !skip["stores"] {
		b.storesPhase(ctx)
		b.checkpoint("stores")
	}
	for _, sb := range b.soloBackends() {
		if !skip[sb.key] {
			b.soloBackendPhase(ctx, sb)
		}
	}
}

// checkpoint writes the report as it stands after phase, marked partial.
func (b *bench) checkpoint(phase string) {
	b.rep.partial = fmt.Sprintf("partial: written after the %s phase at %s UTC; the run went on", phase, time.Now().UTC().Format("15:04:05"))
	if err := b.rep.write(b.opt.out); err != nil {
		slog.Warn("checkpoint", "err", err)
	}
	b.rep.partial = ""
}

// stopServers stops the builtin-only dadns processes and the daemons
// started for the comparisons.
func (b *bench) stopServers(serving *servingSet, daemons []*target) {
	for _, s := range serving.servers {
		s.proc.stop()
	}
	for _, t := range daemons {
		if t.proc != nil {
			t.proc.stop()
		}
	}
}

// cleanup stops every process and removes the temporary directory.
func (b *bench) cleanup() {
	b.procs.stopAll()
	if b.opt.keep {
		slog.Info("kept temporary directory", "dir", b.tmp)
		return
	}
	_ = os.RemoveAll(b.tmp)
}

// prepare generates the zones and the query file.
func (b *bench) prepare() error {
	t0 := time.Now()
	b.zones = generateZones(b.opt.seed, b.opt.zones)
	b.zoneDir = filepath.Join(b.tmp, "zones")
	size, err := writeZoneFiles(b.zoneDir, b.zones)
	if err != nil {
		return err
	}
	b.rep.add("zones", "generated (DirectAdmin shape, files written)", "%d zones × %d records, %s, %s",
		len(b.zones), zoneRecords, mib(size), ms(time.Since(t0)))
	n := queryLines(len(b.zones))
	b.queryFile = filepath.Join(b.tmp, "queries.txt")
	b.rep.fact("workload", "%d zones (seed %d), %d pushers; %d query lines: %s", len(b.zones), b.opt.seed, b.opt.pushers, n, mixText())
	b.rep.fact("dnsperf", "`%s`, %d rounds, the servers in turn within each, median round reported; servers get %d threads each (NSD server-count, named -n, dadns GOMAXPROCS)",
		strings.Join(b.dnsperfArgs("127.0.0.1|::1", "PORT", "queries.txt"), " "), b.opt.rounds, b.opt.serverThreads)
	b.queries, err = writeQueries(b.queryFile, b.opt.seed, b.zones, n, agreeSample)
	return err
}

// mixText describes queryMix.
func mixText() string {
	parts := make([]string, len(queryMix))
	for i, k := range queryMix {
		parts[i] = fmt.Sprintf("%s %d%%", k.label, k.weight)
	}
	return strings.Join(parts, ", ")
}
