// Package corednstest builds CoreDNS with the mysql plugin of
// cybercinch/coredns_mysql_extend, from exactly the versions the CoreDNS
// image pins (deploy/coredns-mysql/coredns), and runs it on loopback
// against a MariaDB database, so tests can query the rows dadns wrote
// through the DNS server that serves them in production. Building from the
// pin in a test also keeps the pin from rotting.
package corednstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
)

// The modules the build fetches through the Go module proxy.
const (
	CoreDNSModule = "github.com/coredns/coredns"
	PluginModule  = "github.com/cybercinch/coredns_mysql_extend"
)

// Errors of BuildBinary, wrapped with the go command's words.
var (
	// ErrUnavailable: the module proxy (or the checksum database) refused
	// or could not be reached; nothing is known about the pin.
	ErrUnavailable = errors.New("corednstest: the Go module proxy cannot serve the pinned modules here")
	// ErrNoSuchVersion: the proxy answered that a pinned version does not
	// exist: the pin has rotted.
	ErrNoSuchVersion = errors.New("corednstest: a pinned module version does not exist")
)

// Pins are the versions the CoreDNS image builds.
type Pins struct {
	CoreDNS     string // COREDNS_VERSION
	MySQLPlugin string // MYSQL_PLUGIN_VERSION
}

// Source is the CoreDNS build of the image: the folder holding its
// Dockerfile, go.mod and main.go.
type Source struct {
	Dir  string
	Pins Pins
}

// RepoSource returns the image's build folder in this repository, with
// the pins its Dockerfile declares.
func RepoSource() (Source, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return Source{}, errors.New("corednstest: cannot locate the repository")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "coredns-mysql", "coredns")
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		return Source{}, fmt.Errorf("corednstest: %w", err)
	}
	pins, err := ReadPins(df)
	if err != nil {
		return Source{}, err
	}
	return Source{Dir: filepath.Clean(dir), Pins: pins}, nil
}

var argLine = regexp.MustCompile(`(?m)^ARG (COREDNS_VERSION|MYSQL_PLUGIN_VERSION)=(\S+)\s*$`)

// ReadPins reads the version ARGs of the image's Dockerfile.
func ReadPins(dockerfile []byte) (Pins, error) {
	var p Pins
	for _, m := range argLine.FindAllSubmatch(dockerfile, -1) {
		switch string(m[1]) {
		case "COREDNS_VERSION":
			p.CoreDNS = string(m[2])
		case "MYSQL_PLUGIN_VERSION":
			p.MySQLPlugin = string(m[2])
		}
	}
	if p.CoreDNS == "" || p.MySQLPlugin == "" {
		return p, errors.New("corednstest: the Dockerfile lacks ARG COREDNS_VERSION= or ARG MYSQL_PLUGIN_VERSION=")
	}
	return p, nil
}

// buildMu makes concurrent builds in one process wait for the first.
var buildMu sync.Mutex

// BuildBinary returns a CoreDNS binary built from src, from the cache when
// the same sources, pins and Go version were built before (under the
// user's cache folder, so repeated runs take no time). Modules come from
// the Go module proxy through the usual module cache.
func BuildBinary(ctx context.Context, src Source) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	key, err := cacheKey(src)
	if err != nil {
		return "", err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "dadns-corednstest", key)
	bin := filepath.Join(dir, "coredns")
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("corednstest: %w", err)
	}
	work, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("corednstest: %w", err)
	}
	defer os.RemoveAll(work)
	if err := build(ctx, src, work); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(work, "coredns"), bin); err != nil {
		return "", fmt.Errorf("corednstest: %w", err)
	}
	return bin, nil
}

// cacheKey names one build: sources, pins, Go version and platform.
func cacheKey(src Source) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s %s %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, src.Pins.CoreDNS, src.Pins.MySQLPlugin)
	for _, f := range []string{"go.mod", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src.Dir, f))
		if err != nil {
			return "", fmt.Errorf("corednstest: %w", err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

// build does what the image's build stage does, in work: require the
// pinned modules, build, and check the plugin is in.
func build(ctx context.Context, src Source, work string) error {
	for _, f := range []string{"go.mod", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src.Dir, f))
		if err != nil {
			return fmt.Errorf("corednstest: %w", err)
		}
		if err := os.WriteFile(filepath.Join(work, f), b, 0o600); err != nil {
			return fmt.Errorf("corednstest: %w", err)
		}
	}
	steps := [][]string{
		{"get", CoreDNSModule + "@" + src.Pins.CoreDNS, PluginModule + "@" + src.Pins.MySQLPlugin},
		{"build", "-trimpath", "-ldflags", "-s -w", "-o", "coredns", "."},
	}
	for _, args := range steps {
		if out, err := goCmd(ctx, work, args...); err != nil {
			return classify(fmt.Sprintf("go %s", strings.Join(args, " ")), out, err)
		}
	}
	out, err := exec.CommandContext(ctx, filepath.Join(work, "coredns"), "-plugins").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^mysql$`).Match(out) {
		return fmt.Errorf("corednstest: the built coredns lacks the mysql plugin (%v):\n%s", err, out)
	}
	return nil
}

// goCmd runs the go command in dir, as a module of its own that may
// change its go.mod, without cgo and with the local toolchain.
func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.Bytes(), err
}

// classify turns a failed go command into ErrUnavailable (the proxy could
// not be asked), ErrNoSuchVersion (it said the version does not exist) or
// a plain build failure.
func classify(step string, out []byte, err error) error {
	text := string(out)
	unavailable := []string{"403 Forbidden", "dial tcp", "no such host", "i/o timeout", "connection refused",
		"connection reset", "network is unreachable", "TLS handshake", "proxyconnect", "GOPROXY=off", "502 Bad Gateway", "503 Service Unavailable"}
	for _, s := range unavailable {
		if strings.Contains(text, s) {
			return fmt.Errorf("%w: %s: %v\n%s", ErrUnavailable, step, err, text)
		}
	}
	for _, s := range []string{"404 Not Found", "410 Gone", "unknown revision", "invalid version", "no matching versions"} {
		if strings.Contains(text, s) {
			return fmt.Errorf("%w: %s: %v\n%s", ErrNoSuchVersion, step, err, text)
		}
	}
	return fmt.Errorf("corednstest: %s: %v\n%s", step, err, text)
}
