package knot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend/knot/knotctl"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// TestNoKnotcSpawned: new, changed and deleted plain zones, the probe and
// repair all go through the control protocol: the knotc wrapper is never
// run (without the trace, every log line would be the wrapper's).
func TestNoKnotcSpawned(t *testing.T) {
	r := newRig(t, knottest.Options{})
	opt := r.options(false)
	opt.trace = nil
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for _, zs := range [][]*zone.Zone{zones(t, "n", 5, 1), zones(t, "n", 5, 2)} {
		if err := b.Apply(ctx, zs); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, b, zs)
	}
	if err := b.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.knot.Knotc("conf-begin"); err != nil { // an operator's transaction
		t.Fatal(err)
	}
	if err := b.Delete(ctx, []zone.Name{"n000.example"}); err == nil || !strings.Contains(err.Error(), "knot: knotd conf-begin: error: (too many transactions)") {
		t.Fatalf("Delete beside an operator's transaction: %v", err)
	}
	if err := r.knot.Knotc("conf-abort"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, []zone.Name{"n000.example"}); err != nil {
		t.Fatal(err)
	}
	r.knot.Stop()
	r.knot.Restart(t) // forgets the zones added at run time
	if err := b.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zones(t, "n", 5, 2)[1:])
	if got := r.calls(t); len(got) != 0 {
		t.Fatalf("knotc was run: %q", got)
	}
	if n := b.knotc.calls.Load(); n < 8 {
		t.Fatalf("%d control actions counted", n)
	}
}

// TestKnotcFallback: with knotc forced (as for a knotd of unknown
// version) the same batches run through the knotc binary, action for
// action.
func TestKnotcFallback(t *testing.T) {
	r := newRig(t, knottest.Options{})
	opt := r.options(false)
	opt.trace, opt.execOnly = nil, true
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	zs := zones(t, "x", 3, 1)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, zones(t, "x", 1, 2)); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, append(zones(t, "x", 1, 2), zs[1:]...))
	want := []string{"conf-read zone.domain", "conf-read template[default].storage", "conf-begin", "conf-set zone.domain", "conf-commit", "-b zone-reload"}
	if got := actions(r.calls(t)); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("knotc runs %q, want %q", got, want)
	}
}

// fakeKnotd answers every control command on a UNIX socket with a status
// text, as a knotd of another version might.
func fakeKnotd(t *testing.T, answer string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kfake")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "k.sock")
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
			go serveFake(c, answer)
		}
	}()
	return sock
}

// serveFake answers "status version" with answer; any other command too,
// unless answer is "garbage", which answers the version as 3.2.6 and
// everything else with an item code knotctl does not know.
func serveFake(c net.Conn, answer string) {
	defer c.Close()
	d := knotctl.NewDecoder(c)
	version := false
	for {
		u, _, err := d.Next()
		if err != nil || u.Type == knotctl.End {
			return
		}
		if u.Type == knotctl.Data {
			version = u.Value(knotctl.RRType) == "version"
		}
		if u.Type != knotctl.Block {
			continue
		}
		var b []byte
		switch {
		case answer != "garbage":
			data := knotctl.NewData(knotctl.Value, answer)
			b, _ = data.Append(nil)
			b = append(b, byte(knotctl.Block))
		case version:
			data := knotctl.NewData(knotctl.Value, "Version: 3.2.6")
			b, _ = data.Append(nil)
			b = append(b, byte(knotctl.Block))
		default:
			b = []byte{1, 0x7f, 0, 0, 3}
		}
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

// TestMalformedAnswerFallsBack: an answer knotctl cannot read fails that
// action (it is not run again: knotd may have done it) and makes the
// backend run knotc for the next ones.
func TestMalformedAnswerFallsBack(t *testing.T) {
	dir := t.TempDir()
	sock := fakeKnotd(t, "garbage")
	log := filepath.Join(dir, "knotc.log")
	fake := filepath.Join(dir, "knotc")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$*\" >> '"+log+"'\necho Running\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{ZonesDir: filepath.Join(dir, "zones"), Knotc: fake, Socket: sock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Probe(context.Background())
	if !errors.Is(err, knotctl.ErrMalformed) || !strings.Contains(err.Error(), "knot: knotd status: error: failed to control (malformed data: item code 127)") {
		t.Fatalf("Probe with a malformed answer: %v", err)
	}
	if ran, _ := os.ReadFile(log); len(ran) != 0 {
		t.Fatalf("knotc ran the failed action again: %q", ran)
	}
	if err := b.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ran, _ := os.ReadFile(log); strings.Count(string(ran), "status") != 1 {
		t.Fatalf("knotc runs %q, want the second probe", ran)
	}
}

// TestUnknownVersionFallsBack: a knotd whose "status version" is not 3.x
// makes the backend run knotc from then on (logged once), instead of
// sending it units it may read otherwise.
func TestUnknownVersionFallsBack(t *testing.T) {
	dir := t.TempDir()
	sock := fakeKnotd(t, "Version: 9.0.0")
	log := filepath.Join(dir, "knotc.log")
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\necho Running\n"
	fake := filepath.Join(dir, "knotc")
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	b, err := New(Options{ZonesDir: filepath.Join(dir, "zones"), Knotc: fake, Socket: sock,
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.Probe(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ran, _ := os.ReadFile(log)
	if strings.Count(string(ran), "status") != 2 || !b.knotc.execOnly.Load() {
		t.Fatalf("knotc runs %q, exec only %v", ran, b.knotc.execOnly.Load())
	}
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 || !strings.Contains(logged.String(), "9.0.0") {
		t.Fatalf("logged %d times:\n%s", n, logged.String())
	}
	if n := b.knotc.calls.Load(); n != 2 {
		t.Fatalf("%d calls counted, want 2", n)
	}
	c := &knotctl.Client{Socket: sock}
	if _, err := c.Run(context.Background(), "status"); !errors.Is(err, knotctl.ErrVersion) {
		t.Fatalf("knotctl against version 9: %v", err)
	}
}

// TestKnotdStoppedMidTransaction stops knotd between conf-begin and
// conf-commit: the batch fails with the connection's error, the abort
// cannot reach knotd either and the marker stays; once knotd is back
// (restarted, so no transaction is open) the next batch aborts first and
// applies, and no transaction is left open.
func TestKnotdStoppedMidTransaction(t *testing.T) {
	r := newRig(t, knottest.Options{})
	opt := r.options(false)
	stop := true
	opt.trace = func(args []string) error {
		if stop && len(args) > 0 && args[0] == "conf-commit" {
			stop = false
			r.knot.Stop()
		}
		return r.trace(args)
	}
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	zs := zones(t, "mid", 3, 1)
	err = b.Apply(ctx, zs)
	if err == nil || !strings.Contains(err.Error(), "knot: knotd conf-commit: error: failed to connect to socket") ||
		!strings.Contains(err.Error(), "could not be aborted") {
		t.Fatalf("Apply with knotd stopped before conf-commit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.zones, markerName)); err != nil {
		t.Fatalf("marker after the failed abort: %v", err)
	}
	r.knot.Restart(t)
	r.calls(t)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zs)
	got := actions(r.calls(t))
	if a, c := slices.Index(got, "conf-abort"), slices.Index(got, "conf-begin"); a < 0 || c < a {
		t.Fatalf("actions after the restart %q: want the leftover transaction aborted before conf-begin", got)
	}
	t.Logf("after the restart: %q", got)
	if _, err := os.Stat(filepath.Join(r.zones, markerName)); !os.IsNotExist(err) {
		t.Fatal("marker left behind")
	}
	if openTransaction(t, r.knot) {
		t.Fatal("a transaction was left open")
	}
}
