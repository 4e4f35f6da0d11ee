package nsd

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/nsdtest"
	"github.com/dadns/dadns/internal/zone"
)

// clientConf writes an nsd.conf for the client side only (what dadns and
// nsd-control read) reaching the TLS rig's NSD at addr, with the rig's
// keys unless a file is given in keys (option name → path).
func (r *rig) clientConf(t *testing.T, addr string, keys map[string]string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"server-cert-file":  filepath.Join(r.nsd.Dir, nsdtest.ServerCertFile),
		"control-cert-file": filepath.Join(r.nsd.Dir, nsdtest.ControlCertFile),
		"control-key-file":  filepath.Join(r.nsd.Dir, nsdtest.ControlKeyFile),
	}
	for k, v := range keys {
		files[k] = v
	}
	text := fmt.Sprintf("remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: %s\n\tcontrol-port: %s\n", host, port)
	for _, k := range []string{"server-cert-file", "control-cert-file", "control-key-file"} {
		text += fmt.Sprintf("\t%s: %q\n", k, files[k])
	}
	p := filepath.Join(t.TempDir(), "client.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// nativeTLS returns a control speaking TLS natively per conf; it fails
// the test if the configuration fell back to nsd-control.
func nativeTLS(t *testing.T, conf string) *control {
	t.Helper()
	c := newControl(Control{Path: "/nonexistent/nsd-control", Conf: conf, Timeout: time.Minute}, nil)
	if c.native == nil || c.native.tls == nil {
		t.Fatalf("%s: not spoken natively over TLS", conf)
	}
	return c
}

// TestTLSSameAsNSDControl sends the same commands natively over TLS and
// through nsd-control, and compares the answers byte for byte, errors
// included (commands that change nothing, or fail alike).
func TestTLSSameAsNSDControl(t *testing.T) {
	r := newTLSRig(t, false)
	ctx := testCtx(t)
	c := nativeTLS(t, r.nsd.Conf)
	if bad, err := c.list(ctx, "addzones", []zone.Name{"s1.example", "s2.example"}, nsdtest.PatternName); err != nil || len(bad) != 0 {
		t.Fatalf("addzones: %v %v", bad, err)
	}
	for _, args := range [][]string{
		{"status"}, {"zonestatus"}, {"zonestatus", "s1.example"}, {"zonestatus", "nosuch.example"},
		{"reload", "nosuch.example"}, {"addzone", "s3.example", "nopattern"}, {"delzone", "nosuch.example"},
		{"verbosity"}, {"no_such_command"},
	} {
		native, nerr := c.exec(ctx, "", args...)
		out, err := r.nsd.Control(args...)
		if native != out || (nerr != nil) != (err != nil) {
			t.Errorf("%s:\nnative (error %v):\n%s\nnsd-control (error %v):\n%s", strings.Join(args, " "), nerr, native, err, out)
		}
	}
	if got := r.calls(t); len(got) != 0 {
		t.Fatalf("the native control ran nsd-control: %q", got)
	}
}

// TestTLSNoNSDControl runs a backend through adds, changes, deletes,
// reconfig and probes on NSD's TLS control: nsd-control (a wrapper that
// logs each run) never runs, and NSD serves every step.
func TestTLSNoNSDControl(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			r := newTLSRig(t, false)
			b := r.backend(t, mode, false)
			ctx := testCtx(t)
			for _, zs := range [][]*zone.Zone{zones(t, "n", 30, 1), zones(t, "n", 2, 2), zones(t, "n", 30, 3)} {
				if err := b.Apply(ctx, zs); err != nil {
					t.Fatal(err)
				}
				mustVerify(t, b, zs)
			}
			if err := b.Probe(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Delete(ctx, []zone.Name{"n000.example", "n001.example"}); err != nil {
				t.Fatal(err)
			}
			waitGone(t, b, "n000.example")
			if got := r.calls(t); len(got) != 0 {
				t.Fatalf("nsd-control ran %d times on the TLS path: %q", len(got), got)
			}
			if n := b.ctl.calls.Load(); n < 5 {
				t.Fatalf("%d commands sent", n)
			}
		})
	}
}

// TestTLSWrongKeys: a client certificate NSD did not sign, or an NSD
// whose certificate server-cert-file did not sign, fails every command
// with a clear error, and nothing changes in NSD.
func TestTLSWrongKeys(t *testing.T) {
	r := newTLSRig(t, false)
	ctx := testCtx(t)
	other := t.TempDir()
	if err := nsdtest.MakeKeys(other); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		keys map[string]string
		want string
	}{
		{"client certificate NSD did not sign", map[string]string{
			"control-cert-file": filepath.Join(other, nsdtest.ControlCertFile),
			"control-key-file":  filepath.Join(other, nsdtest.ControlKeyFile)}, "control-cert-file " + filepath.Join(other, nsdtest.ControlCertFile)},
		{"NSD's certificate not in server-cert-file", map[string]string{
			"server-cert-file": filepath.Join(other, nsdtest.ServerCertFile)}, "not signed by server-cert-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := r.clientConf(t, r.nsd.ControlAddr, c.keys)
			ctl := nativeTLS(t, conf)
			err := ctl.run(ctx, "addzone", "wrong.example", nsdtest.PatternName)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nsd-control addzone wrong.example") {
				t.Fatalf("addzone with the wrong keys: %v; want an error naming the command and %q", err, c.want)
			}
			t.Logf("error: %v", err)
			if err := ctl.status(ctx); err == nil {
				t.Fatal("status with the wrong keys passed")
			}
			if _, err := ctl.list(ctx, "addzones", []zone.Name{"wrong2.example"}, nsdtest.PatternName); err == nil {
				t.Fatal("addzones with the wrong keys passed")
			}
			for _, z := range []string{"wrong.example", "wrong2.example"} {
				if out, err := r.nsd.Control("zonestatus", z); err == nil || !strings.Contains(out, "not configured") {
					t.Fatalf("NSD has %s after a refused command: %q %v", z, out, err)
				}
			}
			// A backend on the wrong keys fails its zones, changes nothing
			// in NSD, and its probe says why.
			opt := r.options(ModeAddZone, false)
			opt.Control = Control{Path: r.ctl, Conf: conf}
			opt.ZonesDir, opt.IncludeFile = filepath.Join(t.TempDir(), "z"), filepath.Join(t.TempDir(), "i.conf")
			b, err := New(opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Apply(ctx, []*zone.Zone{backendtest.Zone(t, "wrong3.example", 1)}); err == nil {
				t.Fatal("Apply with the wrong keys passed")
			}
			if err := b.Probe(ctx); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("probe: %v", err)
			}
			if out, err := r.nsd.Control("zonestatus", "wrong3.example"); err == nil {
				t.Fatalf("NSD has wrong3.example: %q", out)
			}
			if got := r.calls(t); len(got) != 0 {
				t.Fatalf("nsd-control ran: %q", got)
			}
		})
	}
}

// TestTLSNSDStoppedMidCall stops NSD in the middle of an addzones call: a
// proxy on the control connection lets the TLS handshake through, and
// stops NSD when the command's bytes arrive, before passing them on (the
// call then waits for an answer that cannot come). Apply returns
// with NSD's failure instead of waiting, the probe says NSD is gone, and
// once NSD is back the same backend applies the batch and NSD serves it.
func TestTLSNSDStoppedMidCall(t *testing.T) {
	r := newTLSRig(t, false)
	ctx := testCtx(t)
	var once sync.Once
	stopped := make(chan time.Duration, 1)
	proxy := startCutProxy(t, r.nsd.ControlAddr, 4000, func() {
		once.Do(func() { t0 := time.Now(); r.nsd.Stop(); stopped <- time.Since(t0) })
	})
	opt := r.options(ModeAddZone, false)
	opt.Control = Control{Path: r.ctl, Conf: r.clientConf(t, proxy, nil), Timeout: time.Minute}
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	zs := zones(t, "mid", 3*listChunk, 1)
	start := time.Now()
	err = b.Apply(ctx, zs)
	took := time.Since(start)
	select {
	case d := <-stopped:
		t.Logf("NSD took %s to stop", d.Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the proxy never saw a command to stop NSD on")
	}
	if err == nil {
		t.Fatal("Apply passed with NSD stopped during it")
	}
	named, rest := backend.PerZone(err)
	t.Logf("Apply returned after %s: %d zone errors, batch error %v", took.Round(time.Millisecond), len(named), rest)
	if err := b.Probe(ctx); err == nil {
		t.Fatal("probe passed with NSD stopped")
	}

	r.nsd.Restart(t)
	if err := b.Probe(ctx); err != nil {
		t.Fatalf("probe after NSD is back: %v", err)
	}
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatalf("Apply after NSD is back: %v", err)
	}
	mustVerify(t, b, []*zone.Zone{zs[0], zs[len(zs)/2], zs[len(zs)-1]})
	if got := r.calls(t); len(got) != 0 {
		t.Fatalf("nsd-control ran: %q", got)
	}
}

// startCutProxy forwards loopback TCP connections to target; once a
// connection has carried more than after bytes from the client, it calls
// cut (which stops NSD) before passing those bytes on. It returns the proxy's address; it is closed when the
// test ends.
func startCutProxy(t *testing.T, target string, after int, cut func()) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				defer server.Close()
				buf := make([]byte, 32<<10)
				total := 0
				for {
					n, err := client.Read(buf)
					if n > 0 {
						if total += n; total > after {
							cut()
						}
						if _, werr := server.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				defer client.Close()
				_, _ = io.Copy(client, server)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestTLSConfChanged: the keys are made anew (nsd-control-setup -r) and
// NSD restarted with them; the backend, which read the old ones, fails
// once, reads nsd.conf and the keys again, and goes on natively.
func TestTLSConfChanged(t *testing.T) {
	r := newTLSRig(t, false)
	ctx := testCtx(t)
	c := nativeTLS(t, r.nsd.Conf)
	if err := c.status(ctx); err != nil {
		t.Fatal(err)
	}
	r.nsd.Stop()
	if err := nsdtest.MakeKeys(r.nsd.Dir); err != nil {
		t.Fatal(err)
	}
	r.nsd.Restart(t)
	if err := c.status(ctx); err == nil {
		t.Fatal("status with the old keys passed")
	}
	if err := c.status(ctx); err != nil {
		t.Fatalf("status after reading the new keys: %v", err)
	}
	if c.native == nil || c.native.tls == nil {
		t.Fatal("no longer native")
	}
}

// TestTLSSetupKeys drives an NSD whose keys nsd-control-setup made
// (RSA 3072, an operator's setup) natively.
func TestTLSSetupKeys(t *testing.T) {
	n := nsdtest.Start(t, nsdtest.Options{TLS: true, SetupKeys: true})
	ctx := testCtx(t)
	c := nativeTLS(t, n.Conf)
	if err := c.status(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.run(ctx, "reload", "nosuch.example"); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("reload of an unknown zone: %v", err)
	}
}

// TestFallback: a configuration dadns cannot read natively (an include
// with a brace pattern, which NSD's glob expands) is left to nsd-control,
// which works with it; a key file missing at start sends commands to
// nsd-control too, until a failed run has nsd.conf read again and the
// key is there: then natively.
func TestFallback(t *testing.T) {
	r := newTLSRig(t, false)
	ctx := testCtx(t)
	dir := t.TempDir()
	rc, err := os.ReadFile(r.clientConf(t, r.nsd.ControlAddr, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rc.conf"), rc, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(conf, []byte("include: \""+dir+"/{rc,none}.conf\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newControl(Control{Path: r.ctl, Conf: conf, Timeout: time.Minute}, nil)
	if c.native != nil {
		t.Fatal("a brace include resolved natively")
	}
	if err := c.status(ctx); err != nil {
		t.Fatalf("status through nsd-control: %v", err)
	}
	if got := r.calls(t); len(got) != 1 || got[0] != "status" {
		t.Fatalf("nsd-control runs %q, want one status", got)
	}

	key := filepath.Join(dir, "later.key")
	conf = r.clientConf(t, r.nsd.ControlAddr, map[string]string{"control-key-file": key})
	c = newControl(Control{Path: r.ctl, Conf: conf, Timeout: time.Minute}, nil)
	if c.native != nil {
		t.Fatal("a missing key resolved natively")
	}
	if err := c.status(ctx); err == nil {
		t.Fatal("status without the key passed")
	}
	data, err := os.ReadFile(filepath.Join(r.nsd.Dir, nsdtest.ControlKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.status(ctx); err != nil {
		t.Fatalf("status once the key is there: %v", err)
	}
	if c.native == nil || c.native.tls == nil {
		t.Fatal("not native once the key is there")
	}
	if got := r.calls(t); len(got) != 1 {
		t.Fatalf("nsd-control runs %q, want the one before the key was there", got)
	}
}
