package bind

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
	"../x", "..", "a\"; include \"/etc/passwd", "/abs", "a/b", "x\nzone \"evil\" {", "a\\\"b", "Upper.example", "",
	"ok.example/../../etc",
}

// TestHostileNames hands the backend zone names no push could have made
// (the zone package refuses them): none may reach the file system or the
// include, and the valid zone beside them is still applied.
func TestHostileNames(t *testing.T) {
	r := newRig(t, false)
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
	err := b.Apply(ctx, batch)
	named, rest := backend.PerZone(err)
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
		if !before[p] && p != "zones/good.example.db" && p != "rndc.log" {
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
	if want := includeHeader + b.zopts.stanza(zone.Name("good.example"), filepath.Join(r.zones, "good.example.db")); string(inc) != want {
		t.Fatalf("include:\n%s\nwant\n%s", inc, want)
	}
	if strings.Contains(r.named.Log(), "passwd") {
		t.Fatal("named read something about /etc/passwd")
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
