package bind

import (
	"encoding/base64"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend/bind/rndcproto"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
	"github.com/dadns/dadns/internal/zone"
)

// logged returns a logger writing to a buffer.
func logged() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

// served reports whether named answers the zone's SOA authoritatively.
func (r *rig) served(t *testing.T, name zone.Name) bool {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name.FQDN(), dns.TypeSOA)
	resp, err := r.named.Exchange(m, "udp")
	return err == nil && resp.Rcode == dns.RcodeSuccess && resp.Authoritative
}

// TestRndcNative: with the rndc.conf namedtest writes, every command goes
// over the control channel (the binary never runs), the way is logged
// once at Info, also after the configuration file is touched and read
// again, and named's refusal of a command reaches the error as rndc
// prints it.
func TestRndcNative(t *testing.T) {
	r := newRig(t, false)
	opt := r.options(false)
	var buf *syncbuf.Buffer
	opt.Logger, buf = logged()
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for range 3 {
		if err := b.Probe(ctx); err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(r.named.RndcConf(), later, later); err != nil {
		t.Fatal(err)
	}
	zs := zones(t, "n", 2, 1)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zs)
	err = b.rndc.run(ctx, "reload", "nosuch.example")
	want := "bind: rndc reload nosuch.example: rndc: 'reload' failed: not found\nno matching zone 'nosuch.example' in any view"
	if err == nil || err.Error() != want {
		t.Fatalf("unknown zone: %q, want %q", err, want)
	}
	if s := r.spawned(t); len(s) != 0 {
		t.Fatalf("rndc binary ran %q", s)
	}
	if n := strings.Count(buf.String(), "sent over named's control channel directly"); n != 1 ||
		!strings.Contains(buf.String(), "level=INFO") || strings.Contains(buf.String(), "secret") {
		t.Fatalf("log: %d lines about the way, want 1:\n%s", n, buf.String())
	}
	if got := r.calls(t); len(got) != 5 || b.rndc.calls.Load() != 5 {
		t.Fatalf("calls %q (%d counted), want 3 status, reconfig, reload", got, b.rndc.calls.Load())
	}
}

// TestRndcFallback: a configuration rndcproto does not implement (here a
// source address, which rndc honours) makes the backend run the rndc
// binary, says so once in the log, and works; so does rndc_exec.
func TestRndcFallback(t *testing.T) {
	r := newRig(t, false)
	conf, err := os.ReadFile(r.named.RndcConf())
	if err != nil {
		t.Fatal(err)
	}
	alt := filepath.Join(r.dir, "rndc-src.conf")
	text := strings.Replace(string(conf), "options {", "options { default-source-address 127.0.0.1;", 1)
	if err := os.WriteFile(alt, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		set  func(*Rndc)
		log  string
	}{
		{"unsupported option", func(o *Rndc) { o.Conf = alt }, "not understood"},
		{"rndc_exec", func(o *Rndc) { o.Exec = true }, "rndc_exec"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := r.options(false)
			c.set(&opt.Rndc)
			var buf *syncbuf.Buffer
			opt.Logger, buf = logged()
			b, err := New(opt)
			if err != nil {
				t.Fatal(err)
			}
			zs := zones(t, "fb-"+strings.ReplaceAll(c.name, " ", "-")+"-", 2, 1)
			if err := b.Apply(testCtx(t), zs); err != nil {
				t.Fatal(err)
			}
			mustVerify(t, b, zs)
			if err := b.Probe(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if got := r.spawned(t); len(got) != 2 || got[0] != "reconfig" || got[1] != "status" {
				t.Fatalf("rndc binary ran %q, want reconfig, status", got)
			}
			if n := strings.Count(buf.String(), "run by the rndc binary"); n != 1 || !strings.Contains(buf.String(), c.log) {
				t.Fatalf("log: %d lines about the way, want 1 saying %q:\n%s", n, c.log, buf.String())
			}
			r.calls(t)
		})
	}
}

// TestRndcWrongKey: with a key named does not accept, the probe and an
// apply fail with a clear message and named changes nothing; once the
// rndc configuration is fixed the same backend (no restart) reads it
// again and works.
func TestRndcWrongKey(t *testing.T) {
	r := newRig(t, false)
	good, err := os.ReadFile(r.named.RndcConf())
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(r.dir, "rndc-wrong.conf")
	bad := regexp.MustCompile(`secret "[^"]+"`).ReplaceAllString(string(good), `secret "`+strings.Repeat("QUFB", 11)+`"`)
	if err := os.WriteFile(conf, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	opt := r.options(false)
	opt.Rndc.Conf = conf
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if err := b.Probe(ctx); err == nil || !strings.Contains(err.Error(), "rndc status: rndc: connection to remote host closed") ||
		!strings.Contains(err.Error(), "invalid key") {
		t.Fatalf("probe with a wrong key: %v", err)
	}
	zs := zones(t, "wk", 1, 1)
	if err := b.Apply(ctx, zs); err == nil || !strings.Contains(err.Error(), "rndc reconfig") {
		t.Fatalf("apply with a wrong key: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // time for a reconfig that should not happen
	if r.served(t, zs[0].Name) {
		t.Fatal("named serves a zone applied with a wrong key")
	}
	if !strings.Contains(r.named.Log(), "invalid command") && !strings.Contains(r.named.Log(), "bad auth") {
		t.Logf("named's log does not name the refusal:\n%s", r.named.Log())
	}
	if err := os.WriteFile(conf, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second) // a new mtime even on a coarse clock
	if err := os.Chtimes(conf, later, later); err != nil {
		t.Fatal(err)
	}
	if err := b.Probe(ctx); err != nil {
		t.Fatalf("probe after the key was fixed: %v", err)
	}
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zs)
	if s := r.spawned(t); len(s) != 0 {
		t.Fatalf("rndc binary ran %q", s)
	}
}

// TestRndcKeyFile: without an rndc.conf, rndc_key (-k) with rndc_server
// and rndc_port is read as rndc reads it, here with an hmac-md5 key (what
// rndc-confgen used to make); no rndc binary is needed (rndc_path points
// nowhere), and the binary accepts the same configuration.
func TestRndcKeyFile(t *testing.T) {
	namedtest.Require(t)
	if _, err := os.Stat(rndcproto.DefaultConf); err == nil {
		t.Skipf("%s exists: rndc would read it, not the key file", rndcproto.DefaultConf)
	}
	dir := t.TempDir()
	secret := base64.StdEncoding.EncodeToString([]byte("a legacy hmac-md5 control key..."))
	kf := filepath.Join(dir, "rndc.key")
	if err := os.WriteFile(kf, []byte("key \"legacy\" {\n\talgorithm hmac-md5;\n\tsecret \""+secret+"\";\n};\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	include := filepath.Join(dir, "dadns.conf")
	named := namedtest.StartWithInclude(t, include, namedtest.IncludeOptions{
		ControlKeys: []namedtest.ControlKey{{Name: "legacy", Algorithm: "hmac-md5", Secret: secret}}})
	host, port, err := net.SplitHostPort(named.ControlAddr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	opt := Options{ZonesDir: filepath.Join(dir, "zones"), IncludeFile: include, VerifyAddr: named.Addr,
		Rndc:      Rndc{Path: filepath.Join(dir, "no-such-rndc"), Key: kf, Server: host, Port: p},
		CheckConf: "named-checkconf", CheckZone: "named-checkzone", VerifyTimeout: 20 * time.Second}
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	zs := zones(t, "kf", 3, 1)
	if err := b.Apply(testCtx(t), zs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zs)
	opt.Rndc.Path, opt.Rndc.Exec = namedtest.RndcPath, true
	viaBinary, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := viaBinary.Probe(testCtx(t)); err != nil {
		t.Fatalf("rndc with the same key file: %v", err)
	}
}
