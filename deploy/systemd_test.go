package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unit is a systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

// parseUnit reads the INI syntax of systemd unit files (comments,
// sections, Key=value; repeated keys accumulate).
func parseUnit(t testing.TB, text string) unit {
	t.Helper()
	u := unit{}
	section := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		case section == "":
			t.Fatalf("line %d: %q outside a section", i+1, line)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("line %d: %q is not Key=value", i+1, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// one returns the single value of a key, or "" with an error when it is
// missing or repeated.
func (u unit) one(t testing.TB, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Errorf("[%s] %s set %d times, want once", section, key, len(v))
		return ""
	}
	return v[0]
}

// TestSystemdUnit: the directives the unit promises are there, and agree
// with the example app.yml and the users file.
func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, readFile(t, "deploy/systemd/dadns.service"))
	for key, want := range map[string]string{
		"ProtectSystem":           "strict",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"AmbientCapabilities":     "CAP_NET_BIND_SERVICE",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"RestrictSUIDSGID":        "yes",
		"MemoryDenyWriteExecute":  "yes",
		"SystemCallArchitectures": "native",
		"StateDirectory":          "dadns",
		"UMask":                   "0077",
		"Restart":                 "on-failure",
	} {
		if got := u.one(t, "Service", key); got != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	user := u.one(t, "Service", "User")
	if user == "" || user == "root" || user == "0" {
		t.Errorf("User=%q: the service must not run as root", user)
	}
	if !regexp.MustCompile(`(?m)^u ` + regexp.QuoteMeta(user) + ` `).MatchString(readFile(t, "deploy/systemd/dadns.sysusers.conf")) {
		t.Errorf("dadns.sysusers.conf does not create user %s", user)
	}
	exec := strings.Fields(u.one(t, "Service", "ExecStart"))
	if len(exec) < 4 || exec[0] != "/usr/local/bin/dadns" || exec[1] != "--config" || exec[len(exec)-1] != "serve" {
		t.Errorf("ExecStart=%q, want /usr/local/bin/dadns --config FILE serve", exec)
	}
	if len(u["Service"]["ExecReload"]) > 0 {
		t.Error("ExecReload: SIGHUP stops dadns unless TLS is on")
	}
	if got := u.one(t, "Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("WantedBy=%q", got)
	}
	cfg := checkConfig(t, repoPath(t, "deploy/systemd/app.yml"), nil)
	if want := "/var/lib/" + u.one(t, "Service", "StateDirectory"); cfg.DataDir != want {
		t.Errorf("systemd/app.yml data_dir %q, but StateDirectory gives %s", cfg.DataDir, want)
	}
}

// TestSystemdBindDropIn: the drop-in opens exactly the folder the bind
// example writes, and tmpfiles creates it.
func TestSystemdBindDropIn(t *testing.T) {
	u := parseUnit(t, readFile(t, "deploy/systemd/dadns.service.d/bind.conf"))
	rw := u.one(t, "Service", "ReadWritePaths")
	if got := u.one(t, "Service", "SupplementaryGroups"); got != "bind" {
		t.Errorf("SupplementaryGroups=%q, want bind (rndc.key is root:bind 0640)", got)
	}
	cfg := checkConfig(t, repoPath(t, "deploy/systemd/app-bind.yml"), nil)
	b := cfg.DNS.Backends["bind"]
	for _, key := range []string{"zones_dir", "named_conf"} {
		if p, _ := b[key].(string); !strings.HasPrefix(p, rw+"/") {
			t.Errorf("app-bind.yml %s %q is outside ReadWritePaths=%s", key, p, rw)
		}
	}
	tmpfiles := readFile(t, "deploy/systemd/dadns-bind.tmpfiles.conf")
	if !regexp.MustCompile(`(?m)^d\s+` + regexp.QuoteMeta(rw) + `\s+2750\s+dadns\s+bind\s`).MatchString(tmpfiles) {
		t.Errorf("dadns-bind.tmpfiles.conf does not create %s as dadns:bind 2750", rw)
	}
}

// TestSystemdAnalyze lints the unit, alone and with the bind drop-in, with
// systemd's own verifier, and holds its sandbox to an exposure score.
func TestSystemdAnalyze(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze")
	bin := dadnsBinary(t)
	dir := t.TempDir()
	// ExecStart must name an existing executable: point it at the test
	// build, nothing else changes.
	main := strings.Replace(readFile(t, "deploy/systemd/dadns.service"), "ExecStart=/usr/local/bin/dadns ", "ExecStart="+bin+" ", 1)
	units := map[string]string{
		"dadns.service":      main,
		"dadns-bind.service": main + readFile(t, "deploy/systemd/dadns.service.d/bind.conf"),
	}
	for name, text := range units {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		verify := exec.Command(analyze, "verify", "--man=no", path)
		var out bytes.Buffer
		verify.Stdout, verify.Stderr = &out, &out
		if err := verify.Run(); err != nil || out.Len() > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out.String())
		}
		sec, err := exec.Command(analyze, "security", "--offline=true", "--threshold=20", path).CombinedOutput()
		score := regexp.MustCompile(`Overall exposure level for \S+: ([\d.]+)`).FindSubmatch(sec)
		if err != nil || score == nil {
			t.Errorf("systemd-analyze security %s: exposure above 2.0 or unreadable: %v\n%s", name, err, sec)
			continue
		}
		t.Logf("%s: exposure %s", name, score[1])
	}
	// The verifier itself must catch a broken unit, or the check above
	// proves nothing.
	bad := filepath.Join(dir, "bad.service")
	if err := os.WriteFile(bad, []byte(strings.Replace(main, "ProtectSystem=strict", "ProtectSystem=bogus", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command(analyze, "verify", "--man=no", bad).CombinedOutput(); !bytes.Contains(out, []byte("bogus")) {
		t.Errorf("systemd-analyze verify did not report ProtectSystem=bogus:\n%s", out)
	}
}
