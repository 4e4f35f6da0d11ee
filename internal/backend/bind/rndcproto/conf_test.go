package rndcproto

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoad reads rndc.conf and key files as rndc would: which server,
// port, addresses and key each one chooses.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	keyA := `key "a" { algorithm hmac-sha256; secret "` + testSecret + `"; };`
	keyB := `key "b" { algorithm HMAC-MD5; secret "` + testSecret + `"; };`
	inc := writeFile(t, dir, "inc.key", keyB)
	cases := []struct {
		name, conf string
		p          Params
		server     string
		addrs      []string
		key, alg   string
	}{
		{"options only", keyA + ` options { default-key "a"; default-server 127.0.0.2; default-port 1953; };`,
			Params{}, "127.0.0.2", []string{"127.0.0.2:1953"}, "a", "hmac-sha256"},
		{"no port: 953", keyA + ` options { default-key a; default-server localhost; };`,
			Params{}, "localhost", []string{"localhost:953"}, "a", "hmac-sha256"},
		{"-s -p win", keyA + ` options { default-key "a"; default-server 127.0.0.2; default-port 1953; };`,
			Params{Server: "::1", Port: 99}, "::1", []string{"[::1]:99"}, "a", "hmac-sha256"},
		{"server block: its key, port and addresses",
			"# comment\n" + keyA + "\n// comment\n" + keyB + ` /* multi
			line */ options { default-key "a"; default-server ns1; default-port 1953; };
			server "NS1" { key "b"; port 2953; addresses { 127.0.0.3; 127.0.0.4 port 4953; ::1; }; };`,
			Params{}, "ns1", []string{"127.0.0.3:2953", "127.0.0.4:4953", "[::1]:2953"}, "b", "hmac-md5"},
		{"server block without addresses", keyA + keyB + ` options { default-key "a"; }; server 127.0.0.5 { key b; };`,
			Params{Server: "127.0.0.5"}, "127.0.0.5", []string{"127.0.0.5:953"}, "b", "hmac-md5"},
		{"other server: default key", keyA + keyB + ` options { default-key "a"; }; server 127.0.0.5 { key b; };`,
			Params{Server: "127.0.0.6"}, "127.0.0.6", []string{"127.0.0.6:953"}, "a", "hmac-sha256"},
		{"include", `include "` + inc + `"; options { default-key b; default-server 127.0.0.1; };`,
			Params{}, "127.0.0.1", []string{"127.0.0.1:953"}, "b", "hmac-md5"},
		{"unix socket", keyA + ` options { default-key a; default-server "/run/named/ctl"; };`,
			Params{}, "/run/named/ctl", []string{"/run/named/ctl"}, "a", "hmac-sha256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.p.Conf = writeFile(t, t.TempDir(), "rndc.conf", c.conf)
			cfg, err := Load(c.p)
			if err != nil {
				t.Fatal(err)
			}
			cl := cfg.Client()
			var addrs []string
			for _, a := range cl.Addrs {
				addrs = append(addrs, a.Address)
			}
			if cfg.Server != c.server || strings.Join(addrs, " ") != strings.Join(c.addrs, " ") ||
				cfg.Key.Name != c.key || cfg.Key.Algorithm() != c.alg {
				t.Fatalf("server %q addrs %q key %q %s; want %q %q %q %s",
					cfg.Server, addrs, cfg.Key.Name, cfg.Key.Algorithm(), c.server, c.addrs, c.key, c.alg)
			}
		})
	}
}

// TestLoadKeyFile: without -c and without the default rndc.conf, the key
// file is used with server 127.0.0.1 port 953 (or -s/-p).
func TestLoadKeyFile(t *testing.T) {
	if _, err := os.Stat(DefaultConf); err == nil {
		t.Skipf("%s exists: rndc would read it, not the key file", DefaultConf)
	}
	dir := t.TempDir()
	kf := writeFile(t, dir, "rndc.key", `key "rndc-key" {
	algorithm hmac-sha512;
	secret "`+testSecret+`";
};
`)
	cfg, err := Load(Params{KeyFile: kf})
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Client().Addrs; len(a) != 1 || a[0].Address != "127.0.0.1:953" || cfg.Key.Name != "rndc-key" || cfg.Key.Algorithm() != "hmac-sha512" {
		t.Fatalf("%+v %+v", a, cfg.Key)
	}
	cfg, err = Load(Params{KeyFile: kf, Server: "127.0.0.9", Port: 5953})
	if err != nil || cfg.Client().Addrs[0].Address != "127.0.0.9:5953" {
		t.Fatalf("%v %+v", err, cfg.Client().Addrs)
	}
	if _, err := Load(Params{KeyFile: filepath.Join(dir, "missing.key")}); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Fatalf("missing key file: %v", err)
	}
}

// TestLoadRefused: broken configurations are errors as rndc reports them;
// what this package does not implement wraps ErrUnsupported (the caller
// runs rndc instead).
func TestLoadRefused(t *testing.T) {
	keyA := `key "a" { algorithm hmac-sha256; secret "` + testSecret + `"; };`
	cases := []struct {
		name, conf  string
		unsupported bool
		msg         string
	}{
		{"no default server", keyA + ` options { default-key a; };`, false, "no server specified"},
		{"no key", `options { default-server 127.0.0.1; };`, false, "no key for server"},
		{"unknown key", keyA + ` options { default-server 127.0.0.1; default-key zz; };`, false, "no key definition for name zz"},
		{"key without secret", `key a { algorithm hmac-sha256; }; options { default-server 127.0.0.1; default-key a; };`, false, "algorithm and secret"},
		{"bad secret", `key a { algorithm hmac-sha256; secret "!!"; }; options { default-server 127.0.0.1; default-key a; };`, false, "base64"},
		{"port out of range", keyA + ` options { default-server 127.0.0.1; default-key a; default-port 70000; };`, false, "out of range"},
		{"missing ;", keyA + ` options { default-server 127.0.0.1 }`, false, "missing ';'"},
		{"open string", keyA + ` options { default-server "127.0.0.1; };`, false, "not closed"},
		{"open comment", keyA + ` /* options`, false, "not closed"},
		{"unknown algorithm", `key a { algorithm hmac-sha3; secret "` + testSecret + `"; }; options { default-server 127.0.0.1; default-key a; };`, true, "hmac-sha3"},
		{"source address", keyA + ` options { default-server 127.0.0.1; default-key a; default-source-address 127.0.0.2; };`, true, "default-source-address"},
		{"server source address", keyA + ` options { default-key a; default-server 127.0.0.1; }; server 127.0.0.1 { key a; source-address 127.0.0.2; };`, true, "source-address"},
		{"unknown statement", keyA + ` logging { };`, true, "logging"},
		{"include missing", `include "/nonexistent/dadns-rndc.key";`, false, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "rndc.conf", c.conf)
			_, err := Load(Params{Conf: p})
			if err == nil || errors.Is(err, ErrUnsupported) != c.unsupported || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err %v; want unsupported=%v containing %q", err, c.unsupported, c.msg)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
	if _, err := Load(Params{Conf: "/nonexistent/rndc.conf"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing -c file: %v", err)
	}
}

// TestFresh: a configuration is read again once one of its files (the
// conf, an include) changes.
func TestFresh(t *testing.T) {
	dir := t.TempDir()
	inc := writeFile(t, dir, "k.key", `key "a" { algorithm hmac-sha256; secret "`+testSecret+`"; };`)
	conf := writeFile(t, dir, "rndc.conf", `include "`+inc+`"; options { default-key a; default-server 127.0.0.1; };`)
	cfg, err := Load(Params{Conf: conf})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Fresh() {
		t.Fatal("not fresh right after loading")
	}
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(inc, later, later); err != nil {
		t.Fatal(err)
	}
	if cfg.Fresh() {
		t.Fatal("fresh after the included key file changed")
	}
}
