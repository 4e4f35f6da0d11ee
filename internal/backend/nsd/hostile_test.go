package nsd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

var hostileNames = []zone.Name{
	"../x", "..", "a\"\n\tzonefile: \"/etc/passwd", "/abs", "a/b", "x\nzone:\n\tname: evil", "a\\\"b", "Upper.example", "",
	"ok.example/../../etc", "a#b.example", "-c.example", "a b.example",
}

// TestHostileNames hands the backend zone names no push could have made
// (the zone package refuses them): none may reach the file system, the
// include or nsd-control, and the valid zone beside them is applied.
func TestHostileNames(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, false)
			b := r.backend(t, mode, false)
			ctx := testCtx(t)
			good := backendtest.Zone(t, "good.example", 1)
			batch := []*zone.Zone{good}
			for _, n := range hostileNames {
				z := *good
				z.Name = n
				batch = append(batch, &z)
			}
			before := listTree(t, r.dir)
			r.calls(t)
			named, rest := backend.PerZone(b.Apply(ctx, batch))
			if rest != nil || len(named) != len(hostileNames) {
				t.Fatalf("Apply: %d zone errors, rest %v; want one per hostile name", len(named), rest)
			}
			for n, e := range named {
				if !errors.Is(e, backend.ErrPermanent) {
					t.Errorf("%q: error %v is not permanent", n, e)
				}
			}
			mustVerify(t, b, []*zone.Zone{good})
			if err := b.Delete(ctx, hostileNames); err == nil {
				t.Fatal("Delete of hostile names succeeded")
			}
			for _, n := range hostileNames {
				if _, err := b.Zone(ctx, n); err == nil {
					t.Errorf("Zone(%q) succeeded", n)
				}
				if err := b.Verify(ctx, n, good.Hash()); err == nil {
					t.Errorf("Verify(%q) succeeded", n)
				}
			}
			for _, c := range r.calls(t) {
				if strings.Contains(c, "passwd") || strings.Contains(c, "evil") || strings.Contains(c, "..") {
					t.Errorf("nsd-control ran with a hostile name: %q", c)
				}
			}
			for p := range listTree(t, r.dir) {
				if !before[p] && p != "zones/good.example.db" && p != "ctl.log" {
					t.Errorf("unexpected file %s", p)
				}
			}
			for _, p := range []string{"/abs.db", filepath.Join(r.dir, "x.db"), "/etc/passwd.db"} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s exists", p)
				}
			}
			inc, err := os.ReadFile(r.include)
			if err != nil {
				t.Fatal(err)
			}
			if zs, foreign := parseInclude(inc, r.zones); len(zs) != 1 || len(foreign) != 0 || strings.Contains(string(inc), "passwd") ||
				strings.Contains(string(inc), "evil") {
				t.Fatalf("include:\n%s", inc)
			}
			if strings.Contains(r.nsd.Log(), "passwd") || strings.Contains(r.nsd.Log(), "evil") {
				t.Fatal("NSD read a hostile name")
			}
		})
	}
}

// listTree returns the files below dir, relative to it.
func listTree(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCheckName(t *testing.T) {
	for _, n := range hostileNames {
		if err := checkName(n); err == nil {
			t.Errorf("checkName(%q) accepted", n)
		}
	}
	for _, n := range []zone.Name{"example.com", "_dmarc.x-y.example", "2.0.192.in-addr.arpa"} {
		if err := checkName(n); err != nil {
			t.Errorf("checkName(%q): %v", n, err)
		}
	}
}

func TestOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{
		{ZonesDir: dir, IncludeFile: dir + "/i.conf", Mode: ModeAddZone},
		{ZonesDir: dir, IncludeFile: dir + "/i.conf", Mode: "other"},
		{ZonesDir: dir, IncludeFile: dir + "/i.conf", Pattern: "a b"},
		{ZonesDir: dir + "/x\"y", IncludeFile: dir + "/i.conf"},
		{ZonesDir: dir, IncludeFile: dir + "/i#.conf"},
		{ZonesDir: dir},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
