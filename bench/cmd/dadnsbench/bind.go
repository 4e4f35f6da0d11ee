package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// bindDaemon describes named serving the zone files in zoneDir from dir.
func (b *bench) bindDaemon(dir, zoneDir string, port int) daemon {
	cfg := filepath.Join(dir, "named.conf")
	return daemon{
		name:    "named",
		bin:     b.opt.namedBin,
		check:   []string{b.opt.namedCheckconf, cfg},
		args:    []string{"-g", "-c", cfg, "-n", strconv.Itoa(b.opt.serverThreads)},
		config:  bindConfig(dir, zoneDir, port, b.zones),
		cfgPath: cfg,
		addr:    loopback(port),
	}
}

// bindConfig is an authoritative-only named.conf that keeps every file
// named writes inside dir and opens no control channel.
func bindConfig(dir, zoneDir string, port int, zones []*benchZone) string {
	var b strings.Builder
	fmt.Fprintf(&b, "options {\n")
	fmt.Fprintf(&b, "\tdirectory %q;\n\tpid-file %q;\n", dir, filepath.Join(dir, "named.pid"))
	fmt.Fprintf(&b, "\tsession-keyfile %q;\n\tmanaged-keys-directory %q;\n", filepath.Join(dir, "session.key"), dir)
	fmt.Fprintf(&b, "\tlisten-on port %d { 127.0.0.1; };\n\tlisten-on-v6 { none; };\n", port)
	fmt.Fprintf(&b, "\trecursion no;\n\tallow-transfer { none; };\n\tnotify no;\n\tdnssec-validation no;\n")
	fmt.Fprintf(&b, "};\ncontrols { };\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "zone %q { type primary; file %q; };\n", z.name, zoneFile(zoneDir, z))
	}
	return b.String()
}
