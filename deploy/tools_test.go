package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// recordTB catches what requireTool does to a test.
type recordTB struct {
	testing.TB
	fatal, skipped bool
}

func (r *recordTB) Helper() {}

func (r *recordTB) Fatalf(string, ...any) { r.fatal = true; runtime.Goexit() }

func (r *recordTB) Skipf(string, ...any) { r.skipped = true; runtime.Goexit() }

func runRequireTool(t *testing.T, name string) *recordTB {
	r := &recordTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		requireTool(r, name)
	}()
	<-done
	return r
}

// TestRequireToolFailsUnderCI: a missing program skips a test locally and
// fails it under CI=true, whichever program it is.
func TestRequireToolFailsUnderCI(t *testing.T) {
	const missing = "dadns-no-such-tool"
	t.Setenv("CI", "true")
	if r := runRequireTool(t, missing); !r.fatal || r.skipped {
		t.Errorf("CI=true, tool missing: fatal %v, skipped %v; want a failure", r.fatal, r.skipped)
	}
	t.Setenv("CI", "")
	if r := runRequireTool(t, missing); r.fatal || !r.skipped {
		t.Errorf("locally, tool missing: fatal %v, skipped %v; want a skip", r.fatal, r.skipped)
	}
}

// TestRequiredToolsAreInstalled: every program a deploy test requires is
// installed by scripts/install-test-deps.sh (or is the base system's
// shell), so CI=true never fails for want of one.
func TestRequiredToolsAreInstalled(t *testing.T) {
	script := readFile(t, "scripts/install-test-deps.sh")
	installed := map[string]bool{"sh": true, "bash": true}
	for _, m := range regexp.MustCompile(`(?m)^check (\S+) `).FindAllStringSubmatch(script, -1) {
		installed[m[1]] = true
	}
	files, err := filepath.Glob(repoPath(t, "deploy/*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`requireTool\(t, "([^"]+)"\)`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllSubmatch(b, -1) {
			n++
			if !installed[string(m[1])] {
				t.Errorf("%s requires %s, which scripts/install-test-deps.sh does not install", filepath.Base(f), m[1])
			}
		}
	}
	if n == 0 || !installed["systemd-analyze"] {
		t.Fatalf("found %d requireTool uses; systemd-analyze installed: %v", n, installed["systemd-analyze"])
	}
}
