package nsd

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/testutil/nsdtest"
)

// writeConf writes files (name → text) into dir and returns dir/nsd.conf.
func writeConf(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "nsd.conf")
}

// TestReadRemoteConf reads the remote-control settings the way
// nsd-control does: defaults, comments, quotes, values on the next line,
// includes (plain, glob, nested), clauses other than remote-control.
func TestReadRemoteConf(t *testing.T) {
	dir := t.TempDir()
	conf := writeConf(t, dir, map[string]string{
		"nsd.conf": `# a comment
server:
	zonesdir: "` + dir + `"   # trailing comment
	ip-address: 127.0.0.1@5353
include: "` + dir + `/conf.d/*.conf"
include: ` + dir + `/rc.conf
zone:
	name: "control-port.example"
	zonefile: "x#y.db"
key:
	name: "k"
	algorithm: hmac-sha256
	secret: "K2tf3TRjvQkVCmJF3/Z9vA=="
`,
		"conf.d/a.conf": "pattern:\n\tname: p\n\tprovide-xfr: ::1 NOKEY\n",
		"conf.d/b.conf": "remote-control:\n\tcontrol-enable:\n\t\tyes\n",
		"conf.d/c.txt":  "remote-control:\n\tcontrol-port: 1\n",
		"rc.conf": `remote-control:
	control-interface: "::1"
	control-interface: 127.0.0.1
	control-port: 8953
	control-cert-file: ctl.pem
	control-key-file: "/abs/ctl.key"
	include: ` + dir + `/empty*.none
`,
	})
	rc, err := readRemoteConf(conf)
	if err != nil {
		t.Fatal(err)
	}
	want := remoteConf{enable: true, interfaces: []string{"::1", "127.0.0.1"}, port: 8953, serverCert: defaultServerCert,
		controlKey: "/abs/ctl.key", controlCert: "ctl.pem", zonesDir: dir, doIP4: true}
	if !reflect.DeepEqual(rc, want) {
		t.Fatalf("read %+v\nwant %+v", rc, want)
	}
	if got := rc.keyPath(rc.controlCert); got != filepath.Join(dir, "ctl.pem") {
		t.Fatalf("relative key path resolved to %s, want it in zonesdir", got)
	}

	if _, err := resolveRemote(filepath.Join(dir, "missing.conf")); err == nil {
		t.Fatal("a missing nsd.conf resolved")
	}

	// Defaults: nothing but an empty server clause.
	rc, err = readRemoteConf(writeConf(t, t.TempDir(), map[string]string{"nsd.conf": "server:\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if rc.enable || rc.port != 8952 || rc.zonesDir != "/etc/nsd" || rc.serverCert != "/etc/nsd/nsd_server.pem" ||
		rc.controlKey != "/etc/nsd/nsd_control.key" || rc.controlCert != "/etc/nsd/nsd_control.pem" || !rc.doIP4 {
		t.Fatalf("defaults: %+v", rc)
	}
}

// TestReadRemoteConfRefused: configurations NSD refuses too, or dadns
// cannot follow, are errors (the backend then runs nsd-control).
func TestReadRemoteConfRefused(t *testing.T) {
	for name, text := range map[string]string{
		"unterminated quote": "remote-control:\n\tcontrol-interface: \"127.0.0.1\n",
		"two values":         "remote-control:\n\tcontrol-port: 1 2\n",
		"no value":           "remote-control:\n\tcontrol-enable:\nserver:\n",
		"bad boolean":        "remote-control:\n\tcontrol-enable: maybe\n",
		"bad port":           "remote-control:\n\tcontrol-port: 0\n",
		"port too big":       "remote-control:\n\tcontrol-port: 65536\n",
		"missing include":    "include: /nonexistent/nsd.conf\n",
		"brace include":      "include: /etc/{a,b}.conf\n",
		"include loop":       "include: SELF\n",
		"include at the end": "server:\ninclude:",
		"value after clause": "remote-control: yes\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "nsd.conf")
			writeConf(t, dir, map[string]string{"nsd.conf": strings.ReplaceAll(text, "SELF", conf)})
			if rc, err := readRemoteConf(conf); err == nil {
				t.Fatalf("read: %+v", rc)
			}
		})
	}
}

// TestResolveRemote: which address nsd-control would reach, and where the
// configuration cannot be used natively.
func TestResolveRemote(t *testing.T) {
	keys := t.TempDir()
	if err := nsdtest.MakeKeys(keys); err != nil {
		t.Fatal(err)
	}
	tlsKeys := "\tserver-cert-file: " + filepath.Join(keys, nsdtest.ServerCertFile) +
		"\n\tcontrol-cert-file: " + filepath.Join(keys, nsdtest.ControlCertFile) +
		"\n\tcontrol-key-file: " + filepath.Join(keys, nsdtest.ControlKeyFile) + "\n"
	rel := "server:\n\tzonesdir: " + keys + "\nremote-control:\n\tserver-cert-file: " + nsdtest.ServerCertFile +
		"\n\tcontrol-cert-file: " + nsdtest.ControlCertFile + "\n\tcontrol-key-file: " + nsdtest.ControlKeyFile + "\n"
	on := "remote-control:\n\tcontrol-enable: yes\n"
	for _, c := range []struct {
		name, conf string
		addr       string // "" when not native
		tls        bool
	}{
		{"default address", on + tlsKeys, "127.0.0.1:8952", true},
		{"first interface", on + "\tcontrol-interface: 127.0.0.2\n\tcontrol-interface: /run/x.ctl\n" + tlsKeys, "127.0.0.2:8952", true},
		{"port", on + "\tcontrol-port: 9000\n" + tlsKeys, "127.0.0.1:9000", true},
		{"address@port", on + "\tcontrol-interface: 127.0.0.1@9001\n" + tlsKeys, "127.0.0.1:9001", true},
		{"any v4", on + "\tcontrol-interface: 0.0.0.0\n" + tlsKeys, "127.0.0.1:8952", true},
		{"any v6", on + "\tcontrol-interface: ::\n" + tlsKeys, "[::1]:8952", true},
		{"v6", on + "\tcontrol-interface: ::1\n" + tlsKeys, "[::1]:8952", true},
		{"no ip4", "server:\n\tdo-ip4: no\n" + on + tlsKeys, "[::1]:8952", true},
		{"ip6 only", "server:\n\tip6-only: yes\n" + on + tlsKeys, "[::1]:8952", true},
		{"keys relative to zonesdir", rel + on, "127.0.0.1:8952", true},
		{"socket", on + "\tcontrol-interface: \"/run/nsd/nsd.ctl\"\n\tcontrol-cert-file: /nonexistent\n", "/run/nsd/nsd.ctl", false},
		{"control disabled", "remote-control:\n\tcontrol-enable: no\n" + tlsKeys, "", false},
		{"control not enabled", tlsKeys, "", false},
		{"empty interface", on + "\tcontrol-interface: \"\"\n" + tlsKeys, "", false},
		{"interface name", on + "\tcontrol-interface: eth0\n" + tlsKeys, "", false},
		{"bad port after @", on + "\tcontrol-interface: 127.0.0.1@x\n" + tlsKeys, "", false},
		{"key missing", on + tlsKeys + "\tcontrol-key-file: " + filepath.Join(keys, "none.key") + "\n", "", false},
		{"server cert missing", on + tlsKeys + "\tserver-cert-file: " + filepath.Join(keys, "none.pem") + "\n", "", false},
		{"key of another cert", on + tlsKeys + "\tcontrol-key-file: " + filepath.Join(keys, nsdtest.ServerKeyFile) + "\n", "", false},
		{"no certificate in server-cert-file", on + tlsKeys + "\tserver-cert-file: " + filepath.Join(keys, nsdtest.ServerKeyFile) + "\n", "", false},
		{"conf unparsable", "\"", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := writeConf(t, t.TempDir(), map[string]string{"nsd.conf": c.conf})
			r, err := resolveRemote(conf)
			if c.addr == "" {
				var nn *errNotNative
				if err == nil || !errors.As(err, &nn) {
					t.Fatalf("resolved to %+v, %v; want not native", r, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.addr != c.addr || (r.tls != nil) != c.tls {
				t.Fatalf("resolved to %s (tls %v), want %s (tls %v)", r.addr, r.tls != nil, c.addr, c.tls)
			}
		})
	}
}

// TestClip keeps an answer's bytes printable in messages.
func TestClip(t *testing.T) {
	got := clip("error \x00\x1b[31mred\x7f\xff\xfe\nnext line")
	if got != "error ??[31mred??; next line" {
		t.Fatalf("clip: %q", got)
	}
	if long := clip(strings.Repeat("x", 1000)); len(long) != 303 {
		t.Fatalf("clip of 1000 bytes: %d bytes", len(long))
	}
}
