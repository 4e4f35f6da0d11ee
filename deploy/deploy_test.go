// Package deploy_test keeps the packaging honest without a container
// engine: it builds the binary with the Dockerfile's own build command and
// checks it is static, lints the compose files with the compose
// specification's loader, verifies the systemd unit with systemd-analyze,
// validates every shipped app.yml with `dadns check-config`, and runs the
// image's entrypoint and health check against real named, NSD and dadns
// processes.
package deploy_test

import (
	"bytes"
	"context"
	"debug/elf"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// testVersion is stamped into the test binary through the Dockerfile's
// VERSION build argument.
const testVersion = "v0.0.0-deploytest"

// root is the repository root: this file's folder is deploy/.
func root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Dir(filepath.Dir(file))
}

// repoPath joins a slash-separated path to the repository root.
func repoPath(t testing.TB, rel string) string {
	return filepath.Join(root(t), filepath.FromSlash(rel))
}

func readFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
	buildDir  string
)

// TestMain removes the shared binary's folder after every test ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// dadnsBinary builds bin/dadns once per run with the Dockerfile's build
// command (dockerfile_test.go extracts it) and returns its path.
func dadnsBinary(t testing.TB) string {
	t.Helper()
	b := dockerBuildCommand(t)
	dir := root(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "dadns-deploy-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "dadns")
		buildErr = runBuild(b, dir, buildBin)
	})
	if buildErr != nil {
		t.Fatalf("build as the Dockerfile does: %v", buildErr)
	}
	return buildBin
}

// runBuild runs the Dockerfile's `go build` in dir, the repository root,
// with its output moved to out.
func runBuild(b buildCommand, dir, out string) error {
	args := slicesReplaceOutput(b.args, out)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), b.env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return &cmdError{cmd: strings.Join(args, " "), err: err, out: string(msg)}
	}
	return nil
}

// slicesReplaceOutput returns args with the value of -o set to out.
func slicesReplaceOutput(args []string, out string) []string {
	res := append([]string(nil), args...)
	for i := range len(res) - 1 {
		if res[i] == "-o" {
			res[i+1] = out
		}
	}
	return res
}

type cmdError struct {
	cmd, out string
	err      error
}

func (e *cmdError) Error() string { return e.cmd + ": " + e.err.Error() + "\n" + e.out }

// TestBinaryIsStatic: the image's runtime stage has no Go toolchain and the
// binary must not need the base image's C library either.
func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(dadnsBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary imports shared libraries %v", libs)
	}
	if s := f.Section(".symtab"); s != nil {
		t.Errorf("binary keeps its symbol table: -s is missing from -ldflags")
	}
}

// TestBinaryVersion: the VERSION build argument reaches `dadns version`.
func TestBinaryVersion(t *testing.T) {
	out, err := exec.Command(dadnsBinary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("dadns version: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "dadns "+testVersion; got != want {
		t.Errorf("dadns version printed %q, want %q", got, want)
	}
}

// requireTool returns the path of an installed program, or skips the test
// when it is missing; under CI=true a missing program fails the test
// (scripts/install-test-deps.sh installs every one of them).
func requireTool(t testing.TB, name string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/usr/bin/", "/sbin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed and CI=true (scripts/install-test-deps.sh installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// freePort returns a port free for TCP and UDP on 127.0.0.1 at the time
// of the call.
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		u, err := net.ListenPacket("udp", l.Addr().String())
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// runDadns runs the test binary and returns stdout; env is added to a
// clean environment without DADNS_ variables.
func runDadns(t testing.TB, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(dadnsBinary(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// cleanEnv is the test's environment less any DADNS_ variable, which
// would change what dadns reads.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DADNS_") {
			out = append(out, kv)
		}
	}
	return out
}
