package bind

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/namedtest"
)

// rig is a named started for one test, with a backend's directories,
// a record of every rndc command the rig's backends send (either way) and
// an rndc wrapper that logs every run of the binary.
type rig struct {
	named   *namedtest.Named
	dir     string
	include string
	zones   string
	rndcLog string
	rndc    string

	mu   sync.Mutex
	sent []string
}

func newRig(t testing.TB, transfer bool) *rig {
	t.Helper()
	namedtest.Require(t)
	dir := t.TempDir()
	r := &rig{dir: dir, include: filepath.Join(dir, "dadns.conf"), zones: filepath.Join(dir, "zones"),
		rndcLog: filepath.Join(dir, "rndc.log"), rndc: filepath.Join(dir, "rndc")}
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> '%s'\nexec %s \"$@\"\n", r.rndcLog, namedtest.RndcPath)
	if err := os.WriteFile(r.rndc, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r.named = namedtest.StartWithInclude(t, r.include, namedtest.IncludeOptions{AllowTransfer: transfer})
	return r
}

// options are the backend options for the rig's named.
func (r *rig) options(transfer bool) Options {
	return Options{
		ZonesDir: r.zones, IncludeFile: r.include, VerifyAddr: r.named.Addr, Transfer: transfer,
		Rndc:      Rndc{Path: r.rndc, Conf: r.named.RndcConf(), trace: r.record},
		CheckConf: "named-checkconf", CheckZone: "named-checkzone",
		VerifyTimeout: 20 * time.Second,
	}
}

func (r *rig) backend(t *testing.T, transfer bool) *Backend {
	t.Helper()
	b, err := New(r.options(transfer))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r *rig) record(args []string) {
	r.mu.Lock()
	r.sent = append(r.sent, strings.Join(args, " "))
	r.mu.Unlock()
}

// calls returns the rndc commands sent so far and forgets them.
func (r *rig) calls(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

// spawned returns the runs of the rndc binary so far (its arguments
// after "-c <conf>") and forgets them.
func (r *rig) spawned(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(r.rndcLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(r.rndcLog); err != nil {
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

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
