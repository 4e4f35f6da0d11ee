package knot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// rig is a knotd started for one test, with a backend's zones directory,
// a knotc wrapper that logs every call and a trace that logs every action
// sent through the control protocol the same way (both fail the action
// named by failNext).
type rig struct {
	knot     *knottest.Knot
	dir      string
	zones    string
	knotcLog string
	knotc    string
}

// newRig starts knotd whose default template loads the rig's zones
// directory.
func newRig(t *testing.T, opt knottest.Options) *rig {
	t.Helper()
	knottest.Require(t)
	dir := t.TempDir()
	r := &rig{dir: dir, zones: filepath.Join(dir, "zones"), knotcLog: filepath.Join(dir, "knotc.log"), knotc: filepath.Join(dir, "knotc")}
	if err := os.MkdirAll(r.zones, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nif [ -f '%[1]s.fail' ] && [ \"$5\" = \"$(cat '%[1]s.fail')\" ]; then echo 'error: (injected failure)'; exit 1; fi\necho \"$*\" >> '%[1]s'\nexec %[2]s \"$@\"\n",
		r.knotcLog, knottest.KnotcPath)
	if err := os.WriteFile(r.knotc, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opt.ZonesDir = r.zones
	r.knot = knottest.Start(t, opt)
	return r
}

// failNext makes the wrapper fail every knotc run whose action is
// action, until failNext("").
func (r *rig) failNext(t *testing.T, action string) {
	t.Helper()
	if action == "" {
		_ = os.Remove(r.knotcLog + ".fail")
		return
	}
	if err := os.WriteFile(r.knotcLog+".fail", []byte(action), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) options(transfer bool) Options {
	return Options{
		ZonesDir: r.zones, Knotc: r.knotc, Socket: r.knot.Socket, VerifyAddr: r.knot.Addr, Transfer: transfer,
		VerifyTimeout: 20 * time.Second, KnotcTimeout: 30 * time.Second, trace: r.trace,
	}
}

// trace logs a native action as the wrapper logs a knotc run ("-s SOCK
// -t N args...", a session without arguments) and fails it as the
// wrapper would.
func (r *rig) trace(args []string) error {
	if fail, err := os.ReadFile(r.knotcLog + ".fail"); err == nil && len(args) > 0 && args[0] == string(fail) {
		return fmt.Errorf("error: (injected failure)")
	}
	f, err := os.OpenFile(r.knotcLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, strings.Join(append([]string{"-s", r.knot.Socket, "-t", "30"}, args...), " "))
	return err
}

func (r *rig) backend(t *testing.T, transfer bool) *Backend {
	t.Helper()
	b, err := New(r.options(transfer))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// calls returns the knotc actions run so far (without -s/-t, or the
// configuration file of zone-check) and forgets them.
func (r *rig) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(r.knotcLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(r.knotcLog); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		for len(f) >= 2 && (f[0] == "-s" || f[0] == "-t" || f[0] == "-c") {
			f = f[2:]
		}
		if len(f) == 0 {
			f = []string{"(session)"}
		}
		out = append(out, strings.Join(f, " "))
	}
	return out
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func zones(t *testing.T, prefix string, n, serial int) []*zone.Zone {
	out := make([]*zone.Zone, n)
	for i := range out {
		out[i] = backendtest.Zone(t, fmt.Sprintf("%s%03d.example", prefix, i), serial)
	}
	return out
}

func mustVerify(t *testing.T, b *Backend, zs []*zone.Zone) {
	t.Helper()
	for _, z := range zs {
		if err := b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
			t.Fatal(err)
		}
	}
}

// openTransaction reports whether knotd has a configuration transaction
// open: conf-begin fails then. A successful probe is aborted again.
func openTransaction(t *testing.T, k *knottest.Knot) bool {
	t.Helper()
	if err := k.Knotc("conf-begin"); err != nil {
		return true
	}
	if err := k.Knotc("conf-abort"); err != nil {
		t.Fatal(err)
	}
	return false
}
