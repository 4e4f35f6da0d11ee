package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// dadnsServer is a running dadns with its addresses.
type dadnsServer struct {
	proc    *proc
	dataDir string
	da      *daClient
	dnsAddr string
	cfgPath string // its app.yml, for a restart
}

// shippedListen is the builtin's listen host in the shipped configs
// (deploy/systemd, deploy/docker): the wildcard address. Every dadns the
// bench starts listens there, as deployed; the bench asks 127.0.0.1.
const shippedListen = "0.0.0.0"

// dadnsConfig renders the app.yml the bench runs dadns with: the builtin
// backend listening on listen (host:port) with the extra keys of its
// section (builtinKeys, indented six spaces; "" for the defaults), then the
// entries of the other backends under test.
func dadnsConfig(dataDir, pass string, httpPort int, listen, builtinKeys string, backends ...string) string {
	return fmt.Sprintf(`data_dir: %s
app:
  auth_username: bench
  auth_password: %s
  listen_address: 127.0.0.1
  listen_port: %d
dns:
  backends:
    builtin:
      type: builtin
      listen: %s
`, strconv.Quote(dataDir), strconv.Quote(pass), httpPort, strconv.Quote(listen)) + builtinKeys + strings.Join(backends, "")
}

// randomPassword returns 24 random URL-safe characters.
func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("dadnsbench: password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// startDadns writes a config under dir with the given extra backend
// entries and starts bin with it; it returns once dadns answers
// DirectAdmin's login test.
func (b *bench) startDadns(ctx context.Context, dir string, backends ...string) (*dadnsServer, error) {
	dnsPort, err := b.ports.Next()
	if err != nil {
		return nil, err
	}
	return b.startDadnsOn(ctx, dir, dnsPort, backends...)
}

// startDadnsOn is startDadns with the builtin's DNS port chosen by the
// caller (the configuration of another server names it).
func (b *bench) startDadnsOn(ctx context.Context, dir string, dnsPort int, backends ...string) (*dadnsServer, error) {
	return b.startDadnsWith(ctx, dir, builtinSpec{host: shippedListen, port: dnsPort}, backends...)
}

// builtinSpec is where a dadns's builtin listens and the extra keys of its
// section.
type builtinSpec struct {
	host string // listen host: 0.0.0.0, [::] or 127.0.0.1
	port int
	keys string // extra keys, indented six spaces
}

// askAddr is where the bench asks a builtin listening per spec: ::1 for
// [::], 127.0.0.1 otherwise.
func (sp builtinSpec) askAddr() string {
	if sp.host == "[::]" || sp.host == "::1" || sp.host == "[::1]" {
		return net.JoinHostPort("::1", strconv.Itoa(sp.port))
	}
	return loopback(sp.port)
}

// startDadnsWith is startDadnsOn with the builtin's section given.
func (b *bench) startDadnsWith(ctx context.Context, dir string, sp builtinSpec, backends ...string) (*dadnsServer, error) {
	httpPort, err := b.ports.Next()
	if err != nil {
		return nil, err
	}
	pass, err := randomPassword()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "app.yml")
	s := &dadnsServer{dataDir: filepath.Join(dir, "data"), dnsAddr: sp.askAddr(), cfgPath: cfg}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dadnsbench: dadns config: %w", err)
	}
	if err := os.WriteFile(cfg, []byte(dadnsConfig(s.dataDir, pass, httpPort, net.JoinHostPort(strings.Trim(sp.host, "[]"), strconv.Itoa(sp.port)), sp.keys, backends...)), 0o600); err != nil {
		return nil, fmt.Errorf("dadnsbench: dadns config: %w", err)
	}
	s.proc, err = b.procs.start("dadns", filepath.Join(dir, "dadns.log"), b.dadnsEnv(), b.opt.dadnsBin, "--config", cfg, "serve")
	if err != nil {
		return nil, err
	}
	s.da = newDAClient(loopback(httpPort), "bench", pass)
	return s, waitLogin(ctx, s.da, s.proc.alive)
}

// dadnsEnv gives dadns as many threads as the other servers get.
func (b *bench) dadnsEnv() []string {
	return serverEnv("GOMAXPROCS=" + strconv.Itoa(b.opt.serverThreads))
}

// waitLogin polls the login test until it passes, for at most 30 s, or
// until alive reports dadns gone.
func waitLogin(ctx context.Context, da *daClient, alive func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		attempt, stop := context.WithTimeout(ctx, 2*time.Second)
		err := da.loginTest(attempt)
		stop()
		if err == nil {
			return nil
		}
		if dead := alive(); dead != nil {
			return dead
		}
		if perr := pause(ctx, 50*time.Millisecond); perr != nil {
			return fmt.Errorf("dadnsbench: dadns not ready: %w (last: %v)", perr, err)
		}
	}
}
