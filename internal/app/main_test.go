package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/reconcile"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndUnknownCommand(t *testing.T) {
	if code, out, _ := runMain(t, "version"); code != 0 || !strings.HasPrefix(out, "dadns ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := runMain(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "app.yml")
	os.WriteFile(good, []byte("app:\n  auth_password: hunter2-secret\n  listen_port: 2300\n"), 0o600)
	code, out, errs := runMain(t, "--config", good, "check-config")
	if code != 0 || !strings.Contains(out, "listen_port: 2300") || strings.Contains(out, "hunter2-secret") {
		t.Fatalf("check-config: %d\n%s\n%s", code, out, errs)
	}
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("app:\n  listen_port: 70000\n  no_such_key: 1\n"), 0o600)
	code, _, errs = runMain(t, "--config", bad, "check-config")
	if code != 1 || !strings.Contains(errs, "listen_port") || !strings.Contains(errs, "no_such_key") {
		t.Fatalf("bad config: %d %q", code, errs)
	}
	if code, _, errs = runMain(t, "--config", filepath.Join(dir, "missing.yml"), "check-config"); code != 1 || errs == "" {
		t.Fatalf("missing config: %d %q", code, errs)
	}
}

func TestLastSuccessKeepsLatestCompletePass(t *testing.T) {
	var cur reconcile.Report
	f := lastSuccess(func() reconcile.Report { return cur })
	if f() != 0 {
		t.Fatal("a gauge before any pass is not 0")
	}
	t1 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	cur = reconcile.Report{Finished: t1}
	if f() != float64(t1.Unix()) {
		t.Fatal("complete pass not recorded")
	}
	cur = reconcile.Report{Finished: t1.Add(time.Hour), Unreachable: 1}
	if f() != float64(t1.Unix()) {
		t.Fatal("a pass with an unreachable server counted as a success")
	}
}
