package knot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

var hostileNames = []zone.Name{
	"../x", "..", "a\"; include \"/etc/passwd", "/abs", "a/b", "x\nconf-set zone.domain evil", "a\\\"b", "Upper.example", "",
	"ok.example/../../etc", "a b.example", "zone[x].file", "-b.example", "x]\n",
}

// TestHostileNames hands the backend zone names no push could have made
// (the zone package refuses them): none may reach the file system,
// knotc or knotd's configuration, and the valid zone beside them is still
// applied.
func TestHostileNames(t *testing.T) {
	r := newRig(t, knottest.Options{})
	b := r.backend(t, false)
	ctx := testCtx(t)
	good := backendtest.Zone(t, "good.example", 1)
	batch := []*zone.Zone{good}
	for _, n := range hostileNames {
		z := *good
		z.Name = n
		batch = append(batch, &z)
	}
	before := listTree(t, r.dir)
	named, rest := backend.PerZone(b.Apply(ctx, batch))
	if rest != nil || len(named) != len(hostileNames) {
		t.Fatalf("Apply: %d zone errors, rest %v; want one per hostile name", len(named), rest)
	}
	for n, e := range named {
		if !errors.Is(e, backend.ErrPermanent) {
			t.Errorf("%q: error %v is not permanent", n, e)
		}
	}
	if err := b.Verify(ctx, good.Name, good.Hash()); err != nil {
		t.Fatal(err)
	}
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
	after := listTree(t, r.dir)
	for p := range after {
		if !before[p] && p != "zones/good.example.zone" && p != "knotc.log" {
			t.Errorf("unexpected file %s", p)
		}
	}
	for _, p := range []string{"/abs.zone", filepath.Join(r.dir, "x.zone"), "/etc/passwd.zone"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
	conf, err := r.knot.KnotcOutput("conf-read", "zone.domain")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(conf) != "zone.domain = good.example." {
		t.Fatalf("knotd's zones:\n%s", conf)
	}
	calls, _ := os.ReadFile(r.knotcLog)
	for _, bad := range []string{"passwd", "evil", "abs", "Upper", "zone[x]"} {
		if strings.Contains(string(calls), bad) {
			t.Errorf("knotc was called with %q:\n%s", bad, calls)
		}
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

// TestRefusedPaths: a zones_dir or template knotc could not take as one
// word is refused at start.
func TestRefusedPaths(t *testing.T) {
	for _, opt := range []Options{
		{ZonesDir: t.TempDir() + "/a b"},
		{ZonesDir: t.TempDir() + "/a\"b"},
		{ZonesDir: t.TempDir(), Template: "x y"},
		{ZonesDir: t.TempDir(), Template: "x]"},
		{},
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("New(%+v) accepted", opt)
		}
	}
}
