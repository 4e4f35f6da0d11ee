package rndcproto_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend/bind/rndcproto"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/slowproxy"
)

// algs are the algorithms named is given a control key for, besides the
// hmac-sha256 key of namedtest's rndc.conf.
var algs = []string{"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha384", "hmac-sha512"}

type server struct {
	named *namedtest.Named
	dir   string
	keys  map[string]rndcproto.Key // by algorithm
	conf  *rndcproto.Config        // namedtest's rndc.conf
}

const zoneName = "ctl.example"

func zoneText(serial int) string {
	return fmt.Sprintf("$TTL 300\n@ IN SOA ns1.%[1]s. host.%[1]s. %[2]d 3600 600 86400 300\n@ IN NS ns1.%[1]s.\nns1 IN A 192.0.2.1\n",
		zoneName, serial)
}

// start runs named with one zone (serial 1) and a control key per
// algorithm.
func start(t *testing.T) *server {
	t.Helper()
	namedtest.Require(t)
	s := &server{dir: t.TempDir(), keys: map[string]rndcproto.Key{}}
	file := filepath.Join(s.dir, zoneName+".db")
	write(t, file, zoneText(1))
	inc := filepath.Join(s.dir, "zones.conf")
	write(t, inc, fmt.Sprintf("zone %q { type primary; file %q; };\n", zoneName, file))
	var opts namedtest.IncludeOptions
	for _, a := range algs {
		secret := randomSecret(t)
		opts.ControlKeys = append(opts.ControlKeys, namedtest.ControlKey{Name: "k-" + a, Algorithm: a, Secret: secret})
		k, err := rndcproto.NewKey("k-"+a, a, secret)
		if err != nil {
			t.Fatal(err)
		}
		s.keys[a] = k
	}
	s.named = namedtest.StartWithInclude(t, inc, opts)
	cfg, err := rndcproto.Load(rndcproto.Params{Conf: s.named.RndcConf()})
	if err != nil {
		t.Fatal(err)
	}
	s.conf, s.keys["hmac-sha256"] = cfg, cfg.Key
	waitSerial(t, s.named, 1)
	return s
}

func randomSecret(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// named reloads a file only when it is newer than its last load.
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func (s *server) client(key rndcproto.Key) *rndcproto.Client {
	c := s.conf.Client()
	c.Key = key
	return c
}

func serial(n *namedtest.Named) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(zoneName+".", dns.TypeSOA)
	r, err := n.Exchange(m, "udp")
	if err != nil {
		return 0, err
	}
	if len(r.Answer) == 0 {
		return 0, fmt.Errorf("no SOA (rcode %d)", r.Rcode)
	}
	return r.Answer[0].(*dns.SOA).Serial, nil
}

func waitSerial(t *testing.T, n *namedtest.Named, want uint32) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := serial(n)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("serial %d (%v), want %d", got, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestCommands runs every command the bind backend sends, with a key of
// each algorithm, and checks that named did what was asked.
func TestCommands(t *testing.T) {
	s := start(t)
	file := filepath.Join(s.dir, zoneName+".db")
	n := 1
	for _, a := range append([]string{"hmac-sha256"}, algs...) {
		t.Run(a, func(t *testing.T) {
			c := s.client(s.keys[a])
			r, err := c.Run(ctx(t), "status")
			if err != nil || !strings.Contains(r.Text, "server is up and running") {
				t.Fatalf("status: %+v %v", r, err)
			}
			for _, cmd := range []string{"reload " + zoneName, "reload", "reconfig"} {
				n++
				write(t, file, zoneText(n))
				if _, err := c.Run(ctx(t), cmd); err != nil {
					t.Fatalf("%s: %v", cmd, err)
				}
				if cmd != "reconfig" { // reconfig loads new zones only
					waitSerial(t, s.named, uint32(n))
				} else {
					n-- // the next reload picks up this file
				}
			}
		})
	}
}

// TestCommandErrors: named's refusal reaches the error as rndc prints it.
func TestCommandErrors(t *testing.T) {
	s := start(t)
	c := s.client(s.keys["hmac-sha256"])
	for _, cmd := range []string{"reload nosuch.example", "zonestatus nosuch.example", "bogus"} {
		_, err := c.Run(ctx(t), cmd)
		var ce *rndcproto.CommandError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: %v, want a CommandError", cmd, err)
		}
		_, rerr := s.named.RndcOutput(strings.Fields(cmd)...)
		if rerr == nil || !strings.Contains(rerr.Error(), err.Error()) {
			t.Fatalf("%s: native %q; rndc printed %q", cmd, err, rerr)
		}
	}
	_, err := c.Run(ctx(t), "reload nosuch.example")
	if !strings.Contains(err.Error(), "rndc: 'reload' failed: not found\nno matching zone 'nosuch.example' in any view") {
		t.Fatalf("unknown zone: %q", err)
	}
}

// TestWrongKey: named drops a request signed with a wrong secret, an
// unknown key name or another algorithm; nothing is done, the error says
// why it may be, and the right key still works afterwards.
func TestWrongKey(t *testing.T) {
	s := start(t)
	write(t, filepath.Join(s.dir, zoneName+".db"), zoneText(7))
	good := s.keys["hmac-sha256"]
	wrongSecret, _ := rndcproto.NewKey(good.Name, "hmac-sha256", randomSecret(t))
	unknown, _ := rndcproto.NewKey("nobody", "hmac-sha256", randomSecret(t))
	otherAlg, _ := rndcproto.NewKey(s.keys["hmac-sha512"].Name, "hmac-sha384", randomSecret(t))
	for _, k := range []rndcproto.Key{wrongSecret, unknown, otherAlg} {
		_, err := s.client(k).Run(ctx(t), "reload "+zoneName)
		if err == nil || !strings.HasPrefix(err.Error(), "rndc: ") || !strings.Contains(err.Error(), "closed") {
			t.Fatalf("key %s %s: %v", k.Name, k.Algorithm(), err)
		}
	}
	time.Sleep(300 * time.Millisecond) // time for a reload that should not happen
	if got, err := serial(s.named); err != nil || got != 1 {
		t.Fatalf("after refused reloads: serial %d %v, want 1", got, err)
	}
	if _, err := s.client(good).Run(ctx(t), "reload "+zoneName); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, s.named, 7)
}

// TestNamedStops: a call in flight when named stops fails (no hang); a
// call while it is stopped fails to connect; once named is back the same
// client works.
func TestNamedStops(t *testing.T) {
	s := start(t)
	kept := s.client(s.keys["hmac-sha256"])
	if _, err := kept.Run(ctx(t), "status"); err != nil { // its connection is kept
		t.Fatal(err)
	}
	proxy := slowproxy.Start(t, s.named.ControlAddr, 500*time.Millisecond)
	c := s.client(s.keys["hmac-sha256"])
	c.Addrs = []rndcproto.Addr{{Network: "tcp", Address: proxy.Addr()}}
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx(t), "status")
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // the request is held in the proxy
	s.named.Stop()
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "rndc: ") {
			t.Fatalf("call cut by named stopping: %v", err)
		}
		t.Logf("call in flight when named stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("call in flight when named stopped did not return")
	}
	direct := s.client(s.keys["hmac-sha256"])
	if _, err := direct.Run(ctx(t), "status"); err == nil || !strings.Contains(err.Error(), "rndc: connect failed: 127.0.0.1#") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("named stopped: %v", err)
	}
	if _, err := kept.Run(ctx(t), "status"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("named stopped, kept connection: %v", err)
	}
	s.named.Restart(t)
	proxy.SetDelay(0)
	if _, err := kept.Run(ctx(t), "status"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	s.named.Stop() // the kept connection goes stale while idle
	s.named.Restart(t)
	for _, cl := range []*rndcproto.Client{kept, c, direct} {
		if _, err := cl.Run(ctx(t), "status"); err != nil {
			t.Fatalf("after restart: %v", err)
		}
	}
}

// TestKeptConnection: commands after the first reuse its connection and
// nonce; Close ends it and later commands still work.
func TestKeptConnection(t *testing.T) {
	s := start(t)
	c := s.client(s.keys["hmac-sha256"])
	var local string
	for i := range 5 {
		if _, err := c.Run(ctx(t), "status"); err != nil {
			t.Fatal(err)
		}
		l := rndcproto.KeptLocalAddr(c)
		if i > 0 && l != local {
			t.Fatalf("command %d on %s, the first on %s", i, l, local)
		}
		local = l
	}
	if _, err := c.Run(ctx(t), "reload nosuch.example"); err == nil || rndcproto.KeptLocalAddr(c) != local {
		t.Fatalf("a refused command: %v; connection %s, want %s kept", err, rndcproto.KeptLocalAddr(c), local)
	}
	c.Close()
	if _, err := c.Run(ctx(t), "status"); err != nil || rndcproto.KeptLocalAddr(c) != "" {
		t.Fatalf("after Close: %v, kept %q", err, rndcproto.KeptLocalAddr(c))
	}
}

// TestConcurrent: one client used by several goroutines at once (the
// dispatcher's probe beside an apply): every command succeeds.
func TestConcurrent(t *testing.T) {
	s := start(t)
	c := s.client(s.keys["hmac-sha256"])
	errs := make(chan error, 8*10)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				_, err := c.Run(ctx(t), "status")
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTimeout: a server that accepts and never answers costs the
// context's time, not more.
func TestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	k, _ := rndcproto.NewKey("k", "hmac-sha256", randomSecret(t))
	c := &rndcproto.Client{Key: k, Addrs: []rndcproto.Addr{{Network: "tcp", Address: ln.Addr().String()}}}
	cctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := c.Run(cctx, "status"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("silent server: %v, want the context's deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run outlived its context")
	}
}
