package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/syncbuf"
)

// TestEveryCommandHasHelp: `CMD --help`, `--help CMD`, `CMD -h` and
// `help CMD` print the command's usage on stdout and exit 0 without
// reading the configuration (a missing file is given).
func TestEveryCommandHasHelp(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yml")
	for name := range commands {
		for _, args := range [][]string{
			{name, "--help"}, {"--help", name}, {name, "-h"}, {"help", name},
			{"--config", missing, name, "-help"}, {name, "--config", missing, "--help"},
		} {
			code, out, errs := runMain(t, args...)
			if code != 0 || !strings.HasPrefix(out, "usage: dadns "+name) || !strings.Contains(out, "-config FILE") || errs != "" {
				t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, errs := runMain(t, args...)
		if code != 0 || errs != "" {
			t.Errorf("%q: exit %d, stderr %s", args, code, errs)
		}
		for name := range commands {
			if !strings.Contains(out, "\n  "+name+" ") {
				t.Errorf("%q: overview does not list %s:\n%s", args, name, out)
			}
		}
	}
	if code, out, _ := runMain(t, "zones", "--help"); code != 0 || !strings.Contains(out, "resync NAME | --all") || !strings.Contains(out, "-failing") {
		t.Errorf("zones --help: %d\n%s", code, out)
	}
}

// TestUsageErrors: a misused command exits 2 with the reason and its usage
// on stderr, before reading any configuration.
func TestUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yml")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"zones"}, "missing arguments"},
		{[]string{"zones", "show"}, "bad use of zones"},
		{[]string{"zones", "frob", "x.example"}, "bad use of zones"},
		{[]string{"zones", "list", "--all"}, "bad use of zones"},
		{[]string{"zones", "resync", "x.example", "--all"}, "bad use of zones"},
		{[]string{"status", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--dry-run", "status"}, "flag provided but not defined: -dry-run"},
		{[]string{"reconcile", "now"}, "unexpected arguments"},
		{[]string{"help", "frob"}, `unknown command "frob"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"check-config", "--config"}, "flag needs an argument: --config"},
	}
	for _, c := range cases {
		args := c.args
		if args[len(args)-1] != "--config" {
			args = append([]string{"--config", missing}, args...)
		}
		code, out, errs := runMain(t, args...)
		if code != 2 || out != "" || !strings.Contains(errs, c.want) || !strings.Contains(errs, "usage: dadns") {
			t.Errorf("%q: exit %d, want 2 and %q\nstdout: %s\nstderr: %s", args, code, c.want, out, errs)
		}
	}
}

// TestFlagsAnywhere runs `dadns serve --config FILE` in process and talks
// to it with commands whose flags come before the command, after it, and
// after its arguments.
func TestFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	cfg := filepath.Join(dir, "app.yml")
	text := fmt.Sprintf("data_dir: %s\napp:\n  auth_username: da\n  auth_password: cli-pass-0123\n  listen_address: 127.0.0.1\n  listen_port: %d\n"+
		"dns:\n  backends:\n    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", filepath.Join(dir, "data"), httpPort, dnsPort)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	ctx, cancel := context.WithCancel(context.Background())
	var log syncbuf.Buffer
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, []string{"serve", "--config", cfg}, &log, &log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Error("dadns serve did not stop")
		}
	})
	waitServing(t, base, exited, &log)

	q := url.Values{"action": {"rawsave"}, "domain": {"cli.example"}, "hostname": {"da1.example"}, "username": {"u"}}
	req, _ := http.NewRequest("POST", base+"/CMD_API_DNS_ADMIN?"+q.Encode(), strings.NewReader(
		"$TTL 300\n@ IN SOA ns1.cli.example. h.cli.example. 7 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"))
	req.SetBasicAuth("da", "cli-pass-0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("push: %v %v", resp, err)
	}
	resp.Body.Close()

	// zones show decodes the per-backend versions once the builtin applied it.
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, out, _ := runMain(t, "zones", "show", "cli.example", "--config", cfg)
		if strings.Contains(out, "builtin  applied  1        1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("zone not shown applied on builtin in 30 s:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"zones", "show", "cli.example", "--config", cfg}, 0, "serial:  7"},
		{[]string{"zones", "show", "--config=" + cfg, "cli.example", "--url", base}, 0, "owner:   da1.example (user u)"},
		{[]string{"--url", base, "zones", "list", "--config", cfg}, 0, "cli.example"},
		{[]string{"zones", "--failing", "list", "-config", cfg}, 0, "FAILING ON"},
		{[]string{"--insecure", "status", "--config", cfg, "--url=" + base}, 0, `"status": "ok"`},
		{[]string{"status", "--config", cfg, "--url", "http://127.0.0.1:1"}, 1, "dadns: status:"},
		{[]string{"check-config", "--config", cfg}, 0, fmt.Sprintf("listen_port: %d", httpPort)},
		{[]string{"reconcile", "--config", cfg, "--dry-run"}, 1, "no reconciliation.directadmin_servers"},
		{[]string{"--dry-run", "--config", cfg, "reconcile"}, 1, "no reconciliation.directadmin_servers"},
		{[]string{"zones", "resync", "--config", cfg, "--", "cli.example"}, 0, `"version":2`},
	}
	for _, c := range cases {
		code, out, errs := runMain(t, c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("%q: exit %d (want %d), want %q\nstdout: %s\nstderr: %s", c.args, code, c.code, c.want, out, errs)
		}
	}
	cancel()
	select {
	case code := <-exited:
		exited <- code
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

// waitServing waits until the DA login test answers, failing when serve
// exits first or after 30 s.
func waitServing(t *testing.T, base string, exited chan int, log *syncbuf.Buffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", base+"/CMD_API_LOGIN_TEST", nil)
		req.SetBasicAuth("da", "cli-pass-0123")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case code := <-exited:
			exited <- code
			t.Fatalf("dadns serve exited with %d:\n%s", code, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dadns serve did not answer in 30 s:\n%s", log.String())
		}
	}
}
