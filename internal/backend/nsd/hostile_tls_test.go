package nsd

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/dadns/dadns/internal/testutil/nsdtest"
	"github.com/dadns/dadns/internal/zone"
)

// fakeNSD is a TLS server with NSD's keys (it checks the client
// certificate as NSD does) that answers each connection with answer.
type fakeNSD struct {
	ln    net.Listener
	conf  string // a client nsd.conf reaching it
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// startFakeNSD serves answer (given the command line read, and for
// addzones/delzones the zone lines) on a TLS port, or plain TCP when
// plain is set (something that is not NSD's TLS at all).
func startFakeNSD(t *testing.T, plain bool, answer func(conn net.Conn, cmd string)) *fakeNSD {
	t.Helper()
	keys := t.TempDir()
	if err := nsdtest.MakeKeys(keys); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(keys, nsdtest.ServerCertFile), filepath.Join(keys, nsdtest.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(keys, nsdtest.ServerCertFile))
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatal("server certificate", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNSD{ln: ln}
	conf := fmt.Sprintf("remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: 127.0.0.1\n\tcontrol-port: %d\n"+
		"\tserver-cert-file: %s\n\tcontrol-cert-file: %s\n\tcontrol-key-file: %s\n", ln.Addr().(*net.TCPAddr).Port,
		filepath.Join(keys, nsdtest.ServerCertFile), filepath.Join(keys, nsdtest.ControlCertFile), filepath.Join(keys, nsdtest.ControlKeyFile))
	f.conf = filepath.Join(keys, "client.conf")
	if err := os.WriteFile(f.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if !plain {
				conn = tls.Server(conn, cfg)
			}
			f.mu.Lock()
			f.conns = append(f.conns, conn)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer conn.Close()
				if plain {
					answer(conn, "")
					return
				}
				rd := bufio.NewReader(conn)
				line, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				cmd := strings.TrimSuffix(strings.TrimPrefix(line, "NSDCT1 "), "\n")
				if cmd == "addzones" || cmd == "delzones" {
					for {
						l, err := rd.ReadString('\n')
						if err != nil || l == "\x04\n" {
							break
						}
					}
				}
				answer(conn, cmd)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

// TestHostileTLSServer: a server holding NSD's keys that answers garbage,
// too much, nothing, never, or something that is not TLS, makes every
// command fail with a clear, bounded, printable error; nothing panics and
// no call outlives its timeout.
func TestHostileTLSServer(t *testing.T) {
	write := func(s string) func(net.Conn, string) {
		return func(c net.Conn, _ string) { _, _ = io.WriteString(c, s) }
	}
	garbage := "\x00\x01\xff\xfe\x1b[2J" + strings.Repeat("\x7f\x80", 100) + "\n\x00ok\x00\n"
	for _, c := range []struct {
		name   string
		plain  bool
		answer func(net.Conn, string)
		want   string // in every command's error
	}{
		{"binary garbage", false, write(garbage), ""},
		{"no answer", false, func(net.Conn, string) {}, "closed without an answer"},
		{"oversized answer", false, func(c net.Conn, _ string) {
			chunk := strings.Repeat("x", 1<<20)
			for range 5 {
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
		}, "answer longer than"},
		{"one endless line", false, write(strings.Repeat("A", 1<<20)), ""},
		{"error answer", false, write("error something broke\n"), "error something broke"},
		{"not TLS", true, write("HTTP/1.0 400 Bad Request\r\n\r\n"), "TLS handshake"},
		{"never answers", false, func(c net.Conn, _ string) { _, _ = io.Copy(io.Discard, c) }, "deadline exceeded"},
		{"list cut short", false, write("added: h1.example dadns\n"), ""},
		{"list naming a zone not sent", false, write("error zone x exists\nerror for input line 'other.example dadns'\nadded 0 zones\n"), ""},
		{"list error line without a zone", false, write("error for input line '\nerror for input line ''\nadded 0 zones\n"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := startFakeNSD(t, c.plain, c.answer)
			timeout := 2 * time.Second
			if c.name == "oversized answer" {
				timeout = time.Minute // reading 4 MiB under the race detector on a busy machine
			}
			ctl := newControl(Control{Path: "/nonexistent/nsd-control", Conf: f.conf, Timeout: timeout}, nil)
			if ctl.native == nil || ctl.native.tls == nil {
				t.Fatal("not native TLS")
			}
			ctx := context.Background()
			errs := map[string]error{
				"status": ctl.status(ctx),
				"reload": ctl.run(ctx, "reload", "h1.example"),
			}
			for _, cmd := range []string{"addzones", "delzones"} {
				bad, err := ctl.list(ctx, cmd, []zone.Name{"h1.example", "h2.example"}, "dadns")
				if err == nil && len(bad) == 2 {
					err = fmt.Errorf("%v", bad)
					t.Logf("%s: every zone failed: %v", cmd, bad)
					continue
				}
				errs[cmd] = err
			}
			for cmd, err := range errs {
				if err == nil {
					t.Errorf("%s passed", cmd)
					continue
				}
				msg := err.Error()
				if !strings.Contains(msg, "nsd-control "+cmd) || !strings.Contains(msg, c.want) {
					t.Errorf("%s: %q; want it to name the command and %q", cmd, msg, c.want)
				}
				if len(msg) > 600 || strings.IndexFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
					t.Errorf("%s: error not bounded and printable: %q", cmd, msg)
				}
			}
		})
	}
}
