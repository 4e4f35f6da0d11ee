package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes body to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadYAML loads body as the --config file with exactly the given variables.
func loadYAML(t *testing.T, body string, env ...string) (*Config, error) {
	t.Helper()
	p := writeFile(t, t.TempDir(), "app.yml", body)
	return Load(LoadOptions{File: p, Environ: append([]string{}, env...)})
}

// mustLoad is loadYAML for inputs that must be valid.
func mustLoad(t *testing.T, body string, env ...string) *Config {
	t.Helper()
	c, err := loadYAML(t, body, env...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// loadEnvOnly loads with no file at all.
func loadEnvOnly(env ...string) (*Config, error) {
	return Load(LoadOptions{SearchDirs: []string{}, Environ: append([]string{}, env...)})
}

// problemsOf returns the problems of a Load error, failing unless err is an
// *Error.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *config.Error, got %T: %v", err, err)
	}
	return ce.Problems
}

// findProblem returns the problem about key whose message contains substr.
func findProblem(ps []Problem, key, substr string) (Problem, bool) {
	for _, p := range ps {
		if p.Key == key && strings.Contains(p.Msg, substr) {
			return p, true
		}
	}
	return Problem{}, false
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
