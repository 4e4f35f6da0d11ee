package knotctl

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/knottest"
)

const zoneText = "$TTL 300\n@ SOA ns1 h 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"

// badZone is a zone knotd refuses to load: data below a DNAME.
const badZone = zoneText + "d DNAME x.example.\nq.d A 192.0.2.2\n"

func startKnot(t *testing.T) *knottest.Knot {
	t.Helper()
	k := knottest.Start(t, knottest.Options{})
	for name, text := range map[string]string{"a.example": zoneText, "b.example": zoneText, "bad.example": badZone} {
		if err := os.WriteFile(filepath.Join(k.ZonesDir, name+".zone"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// knotc runs the knotc binary and returns its output and whether it
// exited non-zero.
func knotc(t *testing.T, k *knottest.Knot, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command(knottest.KnotcPath, append([]string{"-s", k.Socket, "-t", "30"}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return string(out), err != nil
}

// TestSameAsKnotc runs the actions the knot backend uses against two
// knotd instances configured alike, through knotctl on one and through
// the knotc binary on the other: every answer must read the same and
// fail or succeed alike (the backend parses knotc's text). The script
// covers each command's success and knotd's errors (unknown zone, a
// refused zone, an item that does not exist, a transaction a real knotc
// already holds, no transaction open).
func TestSameAsKnotc(t *testing.T) {
	native, ref := startKnot(t), startKnot(t)
	c := &Client{Socket: native.Socket, Timeout: 30 * time.Second}
	norm := func(s string, k *knottest.Knot) string {
		s = strings.ReplaceAll(s, k.ZonesDir, "ZONES")
		s = strings.ReplaceAll(s, k.Socket, "SOCKET")
		s = strings.ReplaceAll(s, k.Dir, "DIR")
		_, port, _ := net.SplitHostPort(k.Addr)
		return strings.ReplaceAll(s, "@"+port, "@PORT")
	}
	script := []struct {
		args []string
		// both: run by knotc on both instances, not compared (an
		// operator's knotc).
		both bool
	}{
		{args: []string{"status"}},
		{args: []string{"status", "version"}},
		{args: []string{"conf-read", "zone.domain"}},
		{args: []string{"conf-read", "template[default].storage", "template[default].file"}},
		{args: []string{"conf-read", "nosuch.domain"}},
		{args: []string{"conf-set", "zone.domain", "a.example"}},
		{args: []string{"conf-unset", "zone.domain", "a.example"}},
		{args: []string{"conf-begin"}},
		{args: []string{"conf-set", "zone.domain", "a.example", "b.example", "bad.example"}},
		{args: []string{"conf-set", "zone.domain", "a.example"}},
		{args: []string{"conf-set", "zone[a.example].template", "nosuch"}},
		{args: []string{"conf-set", "zone[b.example].file", "/nonexistent/b.example.zone"}},
		{args: []string{"conf-unset", "zone.domain", "nosuch.example"}},
		{args: []string{"conf-abort"}},
		{args: []string{"conf-begin"}},
		{args: []string{"conf-set", "zone.domain", "a.example", "b.example", "bad.example"}},
		{args: []string{"conf-commit"}},
		{args: []string{"conf-read", "zone.domain"}},
		{args: []string{"conf-read", "zone[a.example].file"}},
		{args: []string{"-b", "zone-reload", "a.example"}},
		{args: []string{"-b", "zone-reload", "a.example", "bad.example", "nosuch.example"}},
		{args: []string{"zone-reload", "nosuch.example"}},
		{args: []string{"zone-status", "a.example", "b.example"}},
		{args: []string{"zone-status", "nosuch.example"}},
		{args: []string{"zone-status", "+serial"}},
		{args: []string{"zone-status", "a.example", "+role", "+transaction"}},
		{args: []string{"conf-read", "zone"}},
		{args: []string{"conf-read", "template"}},
		{args: []string{"conf-read"}},
		{args: []string{"zone-begin", "a.example"}},
		{args: []string{"zone-set", "a.example", "x", "300", "A", "192.0.2.9"}},
		{args: []string{"zone-set", "a.example", "t", "300", "TXT", `"two words"`}},
		{args: []string{"zone-set", "a.example", "bad", "300", "A", "not-an-address"}},
		{args: []string{"zone-unset", "a.example", "x", "A"}},
		{args: []string{"zone-abort", "a.example"}},
		{args: []string{"zone-begin", "a.example"}},
		{args: []string{"zone-set", "a.example", "y", "300", "A", "192.0.2.10"}},
		{args: []string{"zone-commit", "a.example"}},
		{args: []string{"zone-commit", "a.example"}},
		{args: []string{"conf-begin"}, both: true}, // an operator's transaction
		{args: []string{"conf-begin"}},
		{args: []string{"conf-abort"}},
		{args: []string{"conf-commit"}},
		{args: []string{"conf-begin"}},
		{args: []string{"conf-unset", "zone.domain", "b.example", "bad.example"}},
		{args: []string{"conf-commit"}},
		{args: []string{"conf-read", "zone.domain"}},
	}
	failures := 0
	for _, s := range script {
		if s.both {
			for _, k := range []*knottest.Knot{native, ref} {
				if out, failed := knotc(t, k, s.args...); failed {
					t.Fatalf("knotc %q: %s", s.args, out)
				}
			}
			continue
		}
		want, wantFailed := knotc(t, ref, s.args...)
		got, err := c.Run(ctx(t), s.args...)
		if err != nil {
			t.Fatalf("%q: %v", s.args, err)
		}
		if wantFailed {
			failures++
		}
		if norm(got.Text, native) != norm(want, ref) || got.Failed != wantFailed {
			t.Errorf("%q:\nknotctl (failed %v):\n%s\nknotc (failed %v):\n%s", s.args, got.Failed, got.Text, wantFailed, want)
		}
	}
	if failures < 10 || failures > len(script)-10 {
		t.Fatalf("%d of %d actions failed: the script no longer covers both outcomes", failures, len(script))
	}
	t.Logf("%d actions, %d of them failing, read the same through knotctl and knotc", len(script)-1, failures)
}

// TestSession sends several actions over one connection and stops at the
// first that fails.
func TestSession(t *testing.T) {
	k := startKnot(t)
	c := &Client{Socket: k.Socket}
	rs, err := c.Session(ctx(t), [][]string{{"conf-begin"}, {"conf-set", "zone.domain", "a.example"},
		{"conf-set", "zone[a.example].template", "nosuch"}, {"conf-commit"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Failed || rs[1].Failed || !rs[2].Failed ||
		rs[2].Text != "error: (not exists) zone[a.example].template = nosuch\n" {
		t.Fatalf("session results %+v", rs)
	}
	if r, err := c.Run(ctx(t), "conf-abort"); err != nil || r.Failed {
		t.Fatalf("conf-abort: %+v %v", r, err)
	}
	if _, err := c.Session(ctx(t), [][]string{{"status"}, {"zone-check"}}); !errors.Is(err, ErrLocal) {
		t.Fatalf("a session with zone-check: %v", err)
	}
}

// TestKnotdGone: with the socket missing the error is knotc's; with knotd
// stopped while a call waits for its answer the call fails at once with
// a control error; once knotd is back the next call succeeds.
func TestKnotdGone(t *testing.T) {
	k := startKnot(t)
	c := &Client{Socket: k.Socket, Timeout: 30 * time.Second}
	if _, err := c.Run(ctx(t), "status"); err != nil {
		t.Fatal(err)
	}
	// knotd serves one control client at a time: hold it, so the call
	// below waits for its answer until knotd stops.
	hold, err := net.Dial("unix", k.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	time.Sleep(100 * time.Millisecond) // knotd accepts the holder first
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx(t), "-b", "zone-reload")
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	k.Stop()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the call outlived knotd by 20 s")
	}
	var ce *ControlError
	if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "error: failed to control (") {
		t.Fatalf("call while knotd stopped: %v", err)
	}
	_, err = c.Run(ctx(t), "status")
	var conn *ConnectError
	if !errors.As(err, &conn) || !strings.Contains(err.Error(), "error: failed to connect to socket '"+k.Socket+"' (") {
		t.Fatalf("call with knotd stopped: %v", err)
	}
	k.Restart(t)
	if r, err := c.Run(ctx(t), "status"); err != nil || r.Text != "Running\n" {
		t.Fatalf("after the restart: %+v %v", r, err)
	}
}

// TestDeadline: a call knotd does not answer (another client holds the
// control socket) ends with the context's deadline, and a cancelled
// context ends it at once.
func TestDeadline(t *testing.T) {
	k := startKnot(t)
	hold, err := net.Dial("unix", k.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	time.Sleep(100 * time.Millisecond)
	c := &Client{Socket: k.Socket, Timeout: 30 * time.Second}
	dctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Run(dctx, "status")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "(connection timeout)") {
		t.Fatalf("call past its deadline: %v", err)
	}
	t.Logf("deadline of 300 ms: returned after %v", time.Since(start))
	cctx, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel2)
	if _, err := c.Run(cctx, "status"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	c.Timeout = 200 * time.Millisecond
	if _, err := c.Run(context.Background(), "status"); err == nil || !strings.Contains(err.Error(), "(connection timeout)") {
		t.Fatalf("call past the client's timeout: %v", err)
	}
	hold.Close()
	c.Timeout = 30 * time.Second
	if _, err := c.Run(ctx(t), "status"); err != nil {
		t.Fatal(err)
	}
}

// rawServer answers each command with answers[i] (raw bytes), in turn.
func rawServer(t *testing.T, answers ...[]byte) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kraw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				d := NewDecoder(c)
				for _, a := range answers {
					for {
						u, _, err := d.Next()
						if err != nil {
							return
						}
						if u.Type == Block {
							break
						}
					}
					if _, err := c.Write(a); err != nil {
						return
					}
				}
			}()
		}
	}()
	return sock
}

// TestHostileServer: garbage in place of the version answer is an
// unknown protocol (ErrVersion: use knotc); garbage or a cut answer
// after it is a control error naming malformed data; nothing panics or
// hangs.
func TestHostileServer(t *testing.T) {
	version := encodeAnswer(t, NewData(Value, "Version: 3.2.6"))
	cases := []struct {
		name    string
		answers [][]byte
		want    error
	}{
		{"garbage version answer", [][]byte{{0x42, 0x42}}, ErrVersion},
		{"version 2", [][]byte{encodeAnswer(t, NewData(Value, "Version: 2.9.9"))}, ErrVersion},
		{"error to status version", [][]byte{encodeAnswer(t, NewData(Error, "invalid command"))}, ErrVersion},
		{"unknown item code", [][]byte{version, {1, 0x7f, 0, 0, 3}}, ErrMalformed},
		{"END in the answer", [][]byte{version, {1, 0x10, 0, 1, 'x', 0}}, ErrMalformed},
		{"cut answer (the server goes away)", [][]byte{version, {1, 0x1a, 0, 9, 'a'}}, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		c := &Client{Socket: rawServer(t, tc.answers...), Timeout: 10 * time.Second}
		_, err := c.Run(ctx(t), "status")
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if tc.want == ErrMalformed && !strings.Contains(err.Error(), "failed to control (malformed data") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func encodeAnswer(t *testing.T, units ...Unit) []byte {
	return encode(t, append(units, Unit{Type: Block})...)
}
