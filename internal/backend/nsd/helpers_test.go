package nsd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/nsdtest"
	"github.com/dadns/dadns/internal/zone"
)

// rig is an NSD started for one test, with a backend's directories and
// an nsd-control wrapper that logs every call.
type rig struct {
	nsd     *nsdtest.NSD
	dir     string
	include string
	zones   string
	ctlLog  string
	ctl     string
	// direct: the backend speaks to NSD's control socket itself rather
	// than running nsd-control.
	direct bool
	// tls: NSD's remote control is TLS on TCP, and the backend reads
	// nsd.conf and speaks it natively (the default way); the nsd-control
	// wrapper stays configured and must not run.
	tls bool
	// exec: with tls, run nsd-control itself (not the logging wrapper)
	// for every command.
	exec bool
}

func newRig(t *testing.T, transfer bool) *rig { return startRig(t, transfer, false) }

// newTLSRig is newRig with NSD's remote control over TLS, the backend
// speaking it natively.
func newTLSRig(t *testing.T, transfer bool) *rig { return startRig(t, transfer, true) }

func startRig(t testing.TB, transfer, tls bool) *rig {
	t.Helper()
	return startRigWith(t, transfer, nsdtest.Options{TLS: tls})
}

// startRigWith starts the rig's NSD with opt (TLS, SetupKeys) and the
// rig's directories and transfer setting.
func startRigWith(t testing.TB, transfer bool, opt nsdtest.Options) *rig {
	t.Helper()
	tls := opt.TLS
	nsdtest.Require(t)
	dir := t.TempDir()
	r := &rig{dir: dir, include: filepath.Join(dir, "dadns.conf"), zones: filepath.Join(dir, "zones"),
		ctlLog: filepath.Join(dir, "ctl.log"), ctl: filepath.Join(dir, "nsd-control")}
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> '%s'\nexec %s \"$@\"\n", r.ctlLog, nsdtest.ControlPath)
	if err := os.WriteFile(r.ctl, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r.tls = tls
	opt.Include, opt.ZonesDir, opt.AllowTransfer = r.include, r.zones, transfer
	r.nsd = nsdtest.Start(t, opt)
	return r
}

// options are the backend options for the rig's NSD in a mode.
func (r *rig) options(mode string, transfer bool) Options {
	return Options{
		ZonesDir: r.zones, IncludeFile: r.include, VerifyAddr: r.nsd.Addr, Transfer: transfer,
		Control: r.control(), Pattern: nsdtest.PatternName, Mode: mode,
		CheckZone: nsdtest.CheckzonePath, VerifyTimeout: 20 * time.Second,
	}
}

func (r *rig) control() Control {
	if r.direct {
		return Control{Socket: r.nsd.Socket}
	}
	if r.tls && r.exec {
		return Control{Path: nsdtest.ControlPath, Conf: r.nsd.Conf, Exec: true} // no wrapper: measured
	}
	if r.tls {
		return Control{Path: r.ctl, Conf: r.nsd.Conf}
	}
	return Control{Path: r.ctl, Conf: r.nsd.Conf, Exec: true}
}

// newDirectRig is newRig with the backend on NSD's control socket.
func newDirectRig(t *testing.T, transfer bool) *rig {
	r := newRig(t, transfer)
	r.direct = true
	return r
}

func (r *rig) backend(t *testing.T, mode string, transfer bool) *Backend {
	t.Helper()
	b, err := New(r.options(mode, transfer))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// calls returns the nsd-control commands run so far and forgets them.
func (r *rig) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(r.ctlLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(r.ctlLog); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "-c" {
			f = f[2:]
		}
		out = append(out, strings.Join(f, " "))
	}
	return out
}

func zones(t testing.TB, prefix string, n, serial int) []*zone.Zone {
	out := make([]*zone.Zone, n)
	for i := range out {
		out[i] = backendtest.Zone(t, fmt.Sprintf("%s%03d.example", prefix, i), serial)
	}
	return out
}

func mustVerify(t testing.TB, b *Backend, zs []*zone.Zone) {
	t.Helper()
	ctx := testCtx(t)
	for _, z := range zs {
		if err := b.Verify(ctx, z.Name, z.Hash()); err != nil {
			t.Fatal(err)
		}
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var modes = []string{ModeAddZone, ModeInclude}
