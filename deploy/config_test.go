package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// effectiveConfig is the part of `dadns check-config`'s output these
// tests read.
type effectiveConfig struct {
	DataDir string `yaml:"data_dir"`
	App     struct {
		ListenPort    int  `yaml:"listen_port"`
		HealthzPublic bool `yaml:"healthz_public"`
	} `yaml:"app"`
	DNS struct {
		Backends map[string]map[string]any `yaml:"backends"`
	} `yaml:"dns"`
}

// checkConfig runs `dadns --config file check-config` with env and returns
// the effective configuration it prints; a refused file fails the test.
func checkConfig(t testing.TB, file string, env []string) effectiveConfig {
	t.Helper()
	out, errOut, err := runDadns(t, env, "--config", file, "check-config")
	if err != nil {
		t.Fatalf("dadns check-config %s: %v\n%s", file, err, errOut)
	}
	var cfg effectiveConfig
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("check-config output of %s: %v\n%s", file, err, out)
	}
	return cfg
}

// exampleConfigs are the app.yml files deploy/ ships.
func exampleConfigs(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"deploy/*/app*.yml", "deploy/*/*/app*.yml"} {
		m, err := filepath.Glob(repoPath(t, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 6 {
		t.Fatalf("found only %d example app.yml files: %v", len(files), files)
	}
	return files
}

// TestExampleConfigs: dadns accepts every shipped app.yml, which keeps its
// state in /var/lib/dadns and holds no secret (check-config masks set
// secrets as ********).
func TestExampleConfigs(t *testing.T) {
	for _, file := range exampleConfigs(t) {
		rel, _ := filepath.Rel(root(t), file)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			out, errOut, err := runDadns(t, nil, "--config", file, "check-config")
			if err != nil {
				t.Fatalf("check-config: %v\n%s", err, errOut)
			}
			if strings.Contains(out, "********") {
				t.Errorf("the example sets a secret; leave it to the operator:\n%s", out)
			}
			cfg := checkConfig(t, file, nil)
			if cfg.DataDir != "/var/lib/dadns" {
				t.Errorf("data_dir %q, want /var/lib/dadns", cfg.DataDir)
			}
			if len(cfg.DNS.Backends) == 0 {
				t.Error("no DNS backend configured")
			}
			container := strings.Contains(rel, "docker") || strings.Contains(rel, "coredns-mysql")
			if container && !cfg.App.HealthzPublic {
				t.Error("a container's app.yml needs app.healthz_public: true for the image's health check")
			}
		})
	}
}

// TestCheckConfigRefuses: the harness above would notice a bad file.
func TestCheckConfigRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.yml")
	if err := os.WriteFile(file, []byte("data_dir: /var/lib/dadns\napp:\n  listen_prot: 2222\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runDadns(t, nil, "--config", file, "check-config")
	if err == nil || !strings.Contains(errOut, "listen_prot") {
		t.Fatalf("check-config accepted a misspelt key: %v\n%s", err, errOut)
	}
	_, errOut, err = runDadns(t, []string{"DADNS_APP_LISTEN_PROT=1"}, "--config", repoPath(t, "deploy/docker/app-none.yml"), "check-config")
	if err == nil || !strings.Contains(errOut, "DADNS_APP_LISTEN_PROT") {
		t.Fatalf("check-config accepted a misspelt DADNS_ variable: %v\n%s", err, errOut)
	}
}

// TestBundledServerPathsAgree: the image's app.yml writes the files its
// DNS server's configuration includes.
func TestBundledServerPathsAgree(t *testing.T) {
	quoted := func(rel, directive string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`(?m)^\s*`+directive+`:?\s+"([^"]+)"`).FindAllStringSubmatch(readFile(t, rel), -1) {
			out = append(out, m[1])
		}
		return out
	}
	bind := checkConfig(t, repoPath(t, "deploy/docker/app-bind.yml"), nil).DNS.Backends["bind"]
	includes := quoted("deploy/docker/named.conf", "include")
	for _, key := range []string{"named_conf", "rndc_key"} {
		if !slices.Contains(includes, str(bind[key])) {
			t.Errorf("app-bind.yml %s %v is not among named.conf's includes %v", key, bind[key], includes)
		}
	}
	nsd := checkConfig(t, repoPath(t, "deploy/docker/app-nsd.yml"), nil).DNS.Backends["nsd"]
	if inc := quoted("deploy/docker/nsd.conf", "include"); !slices.Contains(inc, str(nsd["nsd_conf"])) {
		t.Errorf("app-nsd.yml nsd_conf %v is not among nsd.conf's includes %v", nsd["nsd_conf"], inc)
	}
	if dir := quoted("deploy/docker/nsd.conf", "zonesdir"); !slices.Contains(dir, str(nsd["zones_dir"])) {
		t.Errorf("app-nsd.yml zones_dir %v is not nsd.conf's zonesdir %v", nsd["zones_dir"], dir)
	}
}

// str is a configuration value as a string; "" when it is not one.
func str(v any) string {
	s, _ := v.(string)
	return s
}
