package nsd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/nsdtest"
	"github.com/dadns/dadns/internal/zone"
)

// TestRestartKnowsItsZones builds a second backend on the same files, as
// after a restart of dadns: it lists the zones, verifies them from their
// files, and a delete through it reaches NSD.
func TestRestartKnowsItsZones(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, false)
			ctx := testCtx(t)
			zs := zones(t, "keep", 3, 9)
			if err := r.backend(t, mode, false).Apply(ctx, zs); err != nil {
				t.Fatal(err)
			}
			b := r.backend(t, mode, false)
			names, err := b.Zones(ctx)
			if err != nil || !slices.Equal(names, []zone.Name{"keep000.example", "keep001.example", "keep002.example"}) {
				t.Fatalf("Zones after restart = %v, %v", names, err)
			}
			b.settleFrom(time.Now())
			mustVerify(t, b, zs)
			if err := b.Verify(ctx, zs[0].Name, zones(t, "keep", 1, 10)[0].Hash()); err == nil {
				t.Fatal("Verify accepted a hash the zone file does not hold")
			}
			if err := b.Delete(ctx, names[:1]); err != nil {
				t.Fatal(err)
			}
			waitGone(t, b, names[0])
		})
	}
}

// TestNSDLostItsZones empties NSD's zone list behind dadns's back (addzone
// mode): applying the zones again adds them back ("reload" answers "not
// configured", through nsd-control, on the socket and over TLS alike).
func TestNSDLostItsZones(t *testing.T) {
	for _, way := range []string{"nsd-control", "socket", "tls"} {
		t.Run(way, func(t *testing.T) {
			r := startRig(t, false, way == "tls")
			r.direct = way == "socket"
			ctx := testCtx(t)
			b := r.backend(t, ModeAddZone, false)
			zs := zones(t, "lost", 2, 1)
			if err := b.Apply(ctx, zs); err != nil {
				t.Fatal(err)
			}
			if out, err := r.nsd.Control("delzone", "lost000.example"); err != nil {
				t.Fatal(out, err)
			}
			if err := b.Apply(ctx, zones(t, "lost", 2, 2)); err != nil {
				t.Fatal(err)
			}
			mustVerify(t, b, zones(t, "lost", 2, 2))
		})
	}
}

// TestControlAnswers checks how NSD's answers are read, through
// nsd-control, on the control socket (named, or found in nsd.conf) and
// over TLS natively: ok, an error answer (an error,
// with NSD's text), per-zone errors of addzones even when the first zone
// fails (nsd-control then exits 1), and NSD stopped.
func TestControlAnswers(t *testing.T) {
	for _, way := range []string{"nsd-control", "socket", "tls", "socket-from-conf"} {
		t.Run(way, func(t *testing.T) {
			r := startRig(t, false, way == "tls")
			ctx := testCtx(t)
			ctl := Control{Path: nsdtest.ControlPath, Conf: r.nsd.Conf, Exec: true, Timeout: time.Minute}
			switch way {
			case "socket":
				ctl = Control{Socket: r.nsd.Socket, Timeout: time.Minute}
			case "tls", "socket-from-conf":
				// nsd.conf read natively: TLS, or its control-interface socket.
				ctl = Control{Path: "/nonexistent/nsd-control", Conf: r.nsd.Conf, Timeout: time.Minute}
			}
			c := newControl(ctl, nil)
			if err := c.status(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.run(ctx, "reload", "nosuch.example"); err == nil || !strings.Contains(err.Error(), "not configured") {
				t.Fatalf("reload of an unknown zone: %v; want NSD's \"not configured\"", err)
			}
			bad, err := c.list(ctx, "addzones", []zone.Name{"s1.example", "s2.example"}, "nopattern")
			if err != nil || len(bad) != 2 || !strings.Contains(bad["s1.example"].Error(), "nopattern") {
				t.Fatalf("addzones with a missing pattern: %v %v", bad, err)
			}
			bad, err = c.list(ctx, "addzones", []zone.Name{"s1.example"}, nsdtest.PatternName)
			if err != nil || len(bad) != 0 {
				t.Fatalf("addzones: %v %v", bad, err)
			}
			if out, err := r.nsd.Control("zonestatus", "s1.example"); err != nil || !strings.Contains(out, "s1.example") {
				t.Fatalf("the zone added: %q %v", out, err)
			}
			r.nsd.Stop()
			if err := c.status(ctx); err == nil || !strings.Contains(err.Error(), "nsd-control status") {
				t.Fatalf("status with NSD stopped: %v", err)
			}
			if _, err := c.list(ctx, "addzones", []zone.Name{"s3.example"}, nsdtest.PatternName); err == nil {
				t.Fatal("addzones with NSD stopped passed")
			}
		})
	}
}

// TestDrift plants files and include lines dadns did not write: they are
// reported and nothing is removed until the zone is deleted.
func TestDrift(t *testing.T) {
	r := newRig(t, false)
	ctx := testCtx(t)
	b := r.backend(t, ModeInclude, false)
	zs := zones(t, "d", 3, 1)
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	inc, _ := os.ReadFile(r.include)
	if err := os.WriteFile(r.include, append(inc, "zone:\n\tname: \"hand.example\"\n\tzonefile: \"/x\"\n\tallow-notify: 0.0.0.0/0 NOKEY\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	b = r.backend(t, ModeInclude, false) // reads the include again
	stray := filepath.Join(r.zones, "stray.example.db")
	for p, data := range map[string][]byte{
		stray: []byte("; hand-made\n"),
		filepath.Join(r.zones, "d001.example.db"): []byte("; edited\n"),
	} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(r.zones, "d002.example.db")); err != nil {
		t.Fatal(err)
	}
	d := b.Drift()
	if !slices.Equal(d.Stray, []zone.Name{"stray.example"}) || !slices.Equal(d.Modified, []zone.Name{"d001.example"}) ||
		!slices.Equal(d.Missing, []zone.Name{"d002.example"}) || len(d.Foreign) != 4 {
		t.Fatalf("drift = %+v", d)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Fatal("a file dadns did not write was removed before its zone was deleted")
	}
	if err := b.Delete(ctx, []zone.Name{"stray.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatal("deleting the zone left its file")
	}
}

// TestIncludeRoundTrip renders both modes' files and reads them back,
// and reads the entries directdnsonly wrote as dadns's own.
func TestIncludeRoundTrip(t *testing.T) {
	zs := map[zone.Name]entry{"b.example": {file: "/z/b.example.db"}, "a.example": {file: "/z/a.example.db"}}
	for _, mode := range modes {
		b := &Backend{opt: Options{Mode: mode, Pattern: "p", ZonesDir: "/z"}}
		got, foreign := parseInclude(b.renderInclude(zs), "/z")
		if len(got) != 2 || got["a.example"].file != "/z/a.example.db" || len(foreign) != 0 {
			t.Fatalf("%s: %v, foreign %q", mode, got, foreign)
		}
	}
	b := &Backend{opt: Options{Mode: ModeInclude}}
	want := includeHeader + "zone:\n\tname: \"a.example\"\n\tzonefile: \"/z/a.example.db\"\n" +
		"zone:\n\tname: \"b.example\"\n\tzonefile: \"/z/b.example.db\"\n"
	if got := string(b.renderInclude(zs)); got != want {
		t.Fatalf("include:\n%s", got)
	}
	// directdnsonly's entries, then lines that are not dadns's.
	ddo := "\nzone:\n    name: \"old.example\"\n    zonefile: \"/etc/nsd/zones/old.example.db\"\n" +
		"zone:\n  name: \"../x\"\n  zonefile: \"/z/x.db\"\n" +
		"zone:\n  name: rel.example\n  zonefile: rel.db\n" +
		"pattern:\n  name: p\n# comment\n"
	got, foreign := parseInclude([]byte(ddo), "/z")
	if len(got) != 1 || got["old.example"].file != "/etc/nsd/zones/old.example.db" || len(foreign) != 8 {
		t.Fatalf("parse: %v, foreign %q", got, foreign)
	}
}

// waitGone waits until NSD stops serving name.
func waitGone(t *testing.T, b *Backend, name zone.Name) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := b.soaSerial(testCtx(t), name); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted zone %s still served", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
