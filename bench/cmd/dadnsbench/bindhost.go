package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// bindHost is the named that dadns's bind backend drives: no zones of its
// own, an include file dadns writes, and an rndc control channel.
type bindHost struct {
	dir      string
	include  string // the file dadns owns
	zonesDir string
	rndcConf string
	addr     string // where it answers DNS
	proc     *proc
}

// startBindHost configures and starts named in dir and waits until rndc
// reaches it.
func (b *bench) startBindHost(ctx context.Context, dir string) (*bindHost, error) {
	dnsPort, err := b.ports.Next()
	if err != nil {
		return nil, err
	}
	ctlPort, err := b.ports.Next()
	if err != nil {
		return nil, err
	}
	h := &bindHost{dir: dir, include: filepath.Join(dir, "dadns-zones.conf"), zonesDir: filepath.Join(dir, "zones"),
		rndcConf: filepath.Join(dir, "rndc.conf"), addr: loopback(dnsPort)}
	if err := h.configure(dnsPort, ctlPort); err != nil {
		return nil, fmt.Errorf("dadnsbench: bind backend's named: %w", err)
	}
	conf := filepath.Join(dir, "named.conf")
	h.proc, err = b.procs.start("named (bind backend)", filepath.Join(dir, "named.log"), serverEnv(),
		b.opt.namedBin, "-g", "-4", "-c", conf, "-n", strconv.Itoa(b.opt.serverThreads))
	if err != nil {
		return nil, err
	}
	return h, h.waitControl(ctx, b.opt.rndcBin)
}

// configure writes named.conf, rndc.conf and the empty include.
func (h *bindHost) configure(dnsPort, ctlPort int) error {
	if err := os.MkdirAll(h.zonesDir, 0o755); err != nil {
		return err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	key := base64.StdEncoding.EncodeToString(secret)
	files := map[string]string{
		filepath.Join(h.dir, "named.conf"): h.namedConf(key, dnsPort, ctlPort),
		h.rndcConf:                         rndcConf(key, ctlPort),
		h.include:                          "",
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// namedConf is an authoritative-only named.conf with a control channel,
// keeping every file named writes inside dir.
func (h *bindHost) namedConf(key string, dnsPort, ctlPort int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "key \"dadnsbench\" { algorithm hmac-sha256; secret %q; };\n", key)
	fmt.Fprintf(&b, "controls { inet 127.0.0.1 port %d allow { 127.0.0.1; } keys { \"dadnsbench\"; }; };\n", ctlPort)
	fmt.Fprintf(&b, "options {\n\tdirectory %q;\n\tpid-file %q;\n", h.dir, filepath.Join(h.dir, "named.pid"))
	fmt.Fprintf(&b, "\tsession-keyfile %q;\n\tmanaged-keys-directory %q;\n", filepath.Join(h.dir, "session.key"), h.dir)
	fmt.Fprintf(&b, "\tlisten-on port %d { 127.0.0.1; };\n\tlisten-on-v6 { none; };\n", dnsPort)
	fmt.Fprintf(&b, "\trecursion no;\n\tnotify no;\n\tdnssec-validation no;\n\tallow-transfer { none; };\n};\n")
	fmt.Fprintf(&b, "include %q;\n", h.include)
	return b.String()
}

// rndcConf lets rndc reach the control channel with the key.
func rndcConf(key string, ctlPort int) string {
	return fmt.Sprintf("key \"dadnsbench\" { algorithm hmac-sha256; secret %q; };\n"+
		"options { default-key \"dadnsbench\"; default-server 127.0.0.1; default-port %d; };\n", key, ctlPort)
}

// waitControl waits until the daemon's control command answers.
func (h *bindHost) waitControl(ctx context.Context, rndc string) error {
	return waitControl(ctx, h.proc, "bind backend's named", []string{rndc, "-c", h.rndcConf, "status"}...)
}

// backendYAML is the dns.backends entry of the bind instance driving h.
func (h *bindHost) backendYAML(rndc string) string {
	return fmt.Sprintf("    bind:\n      type: bind\n      zones_dir: %s\n      named_conf: %s\n      rndc_path: %s\n"+
		"      rndc_conf: %s\n      verify_address: %s\n",
		strconv.Quote(h.zonesDir), strconv.Quote(h.include), strconv.Quote(rndc), strconv.Quote(h.rndcConf), h.addr)
}
