package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// bench is one run: its options, temporary directory, started processes
// and the report being filled.
type bench struct {
	opt        options
	tmp        string
	procs      *procSet
	ports      portPicker
	rep        *report
	zones      []*benchZone
	queries    []query
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
}

// target is a DNS server whose queries per second are measured.
type target struct {
	name string
	port int
	addr string
	err  error        // why it cannot be measured
	runs []perfResult // one per dnsperf round
}

// run measures everything, in order; a failed step is reported and the
// steps that do not depend on it still run.
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
	backends := b.backendsPhase(ctx)
	builtin := b.pushPhase(ctx, backends)
	b.latencyPhase(ctx)
	b.servedPhase(ctx)
	daemons := b.daemonPhase(ctx)
	b.reportBindVsCold()
	b.knotColdPhase(ctx)
	b.answerPhase(ctx, builtin, daemons)
	b.qpsPhase(ctx, builtin, daemons)
	b.secondaryPhase(ctx)
	b.footprint()
	b.restartPhase(ctx)
	b.storesPhase(ctx)
	b.nsdBackendPhase(ctx)
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
	b.queries = makeQueries(b.opt.seed, b.zones, queryLines(len(b.zones)))
	b.queryFile = filepath.Join(b.tmp, "queries.txt")
	b.rep.fact("workload", "%d zones (seed %d), %d pushers; %d query lines: %s", len(b.zones), b.opt.seed, b.opt.pushers, len(b.queries), mixText())
	b.rep.fact("dnsperf", "`%s`, %d rounds, the servers in turn within each, median round reported; servers get %d threads each (NSD server-count, named -n, dadns GOMAXPROCS)",
		strings.Join(b.dnsperfArgs("PORT", "queries.txt"), " "), b.opt.rounds, b.opt.serverThreads)
	return writeQueries(b.queryFile, b.queries)
}

// mixText describes queryMix.
func mixText() string {
	parts := make([]string, len(queryMix))
	for i, k := range queryMix {
		parts[i] = fmt.Sprintf("%s %d%%", k.label, k.weight)
	}
	return strings.Join(parts, ", ")
}
