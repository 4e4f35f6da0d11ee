package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
)

// mariaInstances are the coredns_mysql backends under test, each writing
// into its own mariadbd: two data centres, as the issue describes.
var mariaInstances = []string{"mysql_dc1", "mysql_dc2"}

// backendsPhase starts the servers the backends under test write to (the
// bind backend's named, one mariadbd per coredns_mysql instance) and
// returns their dns.backends entries. A server that cannot start is
// reported and its backend left out; the others are still measured.
func (b *bench) backendsPhase(ctx context.Context) []string {
	want, _ := b.opt.extraBackends()
	b.names = []string{"builtin"}
	var entries []string
	if want["bind"] {
		slog.Info("starting the bind backend's named")
		h, err := b.startBindHost(ctx, filepath.Join(b.tmp, "bind-backend"))
		if err != nil {
			b.rep.fail("backends", "bind backend's named", err)
		} else {
			b.bindHost = h
			b.names = append(b.names, "bind")
			entries = append(entries, h.backendYAML(b.opt.rndcBin))
		}
	}
	if want["coredns_mysql"] {
		for _, s := range b.startMarias(ctx) {
			b.marias = append(b.marias, s)
			b.names = append(b.names, s.name)
			entries = append(entries, s.backendYAML())
		}
	}
	if want["knot"] {
		slog.Info("starting the knot backend's knotd")
		h, err := b.startKnotHost(ctx, filepath.Join(b.tmp, "knot-backend"))
		if err != nil {
			b.rep.fail("backends", "knot backend's knotd", err)
		} else {
			b.knotHost = h
			b.names = append(b.names, "knot")
			entries = append(entries, h.backendYAML(b.opt.knotcBin))
		}
	}
	if want["powerdns"] {
		entries = append(entries, b.startPowerDNS(ctx)...)
	}
	b.rep.fact("backends", "%s, all in one dadns; bind drives its own named (rndc, SOA verification); each coredns_mysql and powerdns instance writes into its own mariadbd (InnoDB, durable commits); pdns_dc1's is followed by a GTID replica that PowerDNS reads; knot drives its own knotd (knotc, SOA verification)", strings.Join(b.names, ", "))
	return entries
}

// startMarias starts one mariadbd per coredns_mysql instance, at once
// (mariadb-install-db takes seconds).
func (b *bench) startMarias(ctx context.Context) []*mariaServer {
	ports := make([]int, len(mariaInstances))
	for i := range ports {
		p, err := b.ports.Next()
		if err != nil {
			b.rep.fail("backends", "coredns_mysql databases", err)
			return nil
		}
		ports[i] = p
	}
	slog.Info("starting mariadbd", "instances", len(mariaInstances))
	servers := make([]*mariaServer, len(mariaInstances))
	errs := make([]error, len(mariaInstances))
	var wg sync.WaitGroup
	for i, name := range mariaInstances {
		wg.Go(func() {
			servers[i], errs[i] = b.startMaria(ctx, name, filepath.Join(b.tmp, name), ports[i])
		})
	}
	wg.Wait()
	var out []*mariaServer
	for i, s := range servers {
		if errs[i] != nil {
			b.rep.fail("backends", mariaInstances[i]+"'s mariadbd", errs[i])
			continue
		}
		out = append(out, s)
	}
	return out
}
