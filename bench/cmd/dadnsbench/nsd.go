package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// nsdDaemon describes NSD serving the zone files in zoneDir from dir.
func (b *bench) nsdDaemon(dir, zoneDir string, port int) daemon {
	cfg := filepath.Join(dir, "nsd.conf")
	return daemon{
		name:    "nsd",
		bin:     b.opt.nsdBin,
		check:   []string{filepath.Join(filepath.Dir(b.opt.nsdBin), "nsd-checkconf"), cfg},
		args:    []string{"-d", "-c", cfg},
		config:  nsdConfig(dir, zoneDir, port, b.opt.serverThreads, b.zones),
		cfgPath: cfg,
		addr:    loopback(port),
	}
}

// nsdConfig keeps every file NSD writes inside dir and runs it as the
// current user, without chroot, remote control or a database file.
func nsdConfig(dir, zoneDir string, port, threads int, zones []*benchZone) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n")
	fmt.Fprintf(&b, "  ip-address: 127.0.0.1@%d\n  port: %d\n  do-ip6: no\n", port, port)
	fmt.Fprintf(&b, "  server-count: %d\n  reuseport: %s\n", threads, yesNo(threads > 1))
	fmt.Fprintf(&b, "  username: \"\"\n  chroot: \"\"\n  database: \"\"\n")
	fmt.Fprintf(&b, "  zonesdir: %q\n", zoneDir)
	for _, f := range []string{"zonelistfile: zone.list", "xfrdfile: xfrd.state", "xfrdir: .", "pidfile: nsd.pid"} {
		key, name, _ := strings.Cut(f, ": ")
		fmt.Fprintf(&b, "  %s: %q\n", key, filepath.Join(dir, name))
	}
	fmt.Fprintf(&b, "  verbosity: 1\n  hide-version: yes\n")
	fmt.Fprintf(&b, "remote-control:\n  control-enable: no\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "zone:\n  name: %q\n  zonefile: %q\n", z.name, z.name+".db")
	}
	return b.String()
}

// yesNo spells a boolean for NSD.
func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
