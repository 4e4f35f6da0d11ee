package zonefile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

func testDir(t *testing.T) Dir {
	dir := t.TempDir()
	return Dir{Path: dir, FileMode: 0o640, Label: "test", File: func(n zone.Name) (string, error) {
		if strings.HasPrefix(string(n), "bad") {
			return "", errors.New("no file name for " + string(n))
		}
		return filepath.Join(dir, string(n)+".db"), nil
	}}
}

func batch(t *testing.T, n, serial int) []*zone.Zone {
	var zs []*zone.Zone
	for i := range n {
		zs = append(zs, backendtest.Zone(t, fmt.Sprintf("z%d.example", i), serial))
	}
	return zs
}

// TestStageCommit writes batches below and above SyncEachBelow (an
// fsync per file, one syncfs): every file lands whole with its mode and
// header, the temporary files are gone, and a second version replaces
// the first.
func TestStageCommit(t *testing.T) {
	for _, n := range []int{1, SyncEachBelow - 1, SyncEachBelow, 3 * SyncEachBelow} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			d := testDir(t)
			for serial := 1; serial <= 2; serial++ {
				zs := batch(t, n, serial)
				files, err := d.Stage(context.Background(), zs)
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Commit(files); err != nil {
					t.Fatal(err)
				}
				for _, z := range zs {
					p := filepath.Join(d.Path, string(z.Name)+".db")
					fi, err := os.Stat(p)
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode().Perm() != 0o640 {
						t.Errorf("%s: mode %v", p, fi.Mode().Perm())
					}
					data, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					if string(data) != string(Text(z)) {
						t.Errorf("%s: content differs from the zone's text", p)
					}
					name, s, hash, ok := Header(p)
					if !ok || name != z.Name || s != z.Serial || hash != z.Hash() {
						t.Errorf("%s: header %v %d %s %v", p, name, s, hash, ok)
					}
				}
				names, err := d.List()
				if err != nil || len(names) != n {
					t.Fatalf("listed %d zones (%v), want %d", len(names), err, n)
				}
				assertNoTemp(t, d.Path)
			}
		})
	}
}

// TestStageFailureLeavesNothing: one zone without a file name fails the
// whole stage, and no temporary file of the others is left behind.
func TestStageFailureLeavesNothing(t *testing.T) {
	for _, n := range []int{3, 2 * SyncEachBelow} {
		d := testDir(t)
		zs := append(batch(t, n, 1), backendtest.Zone(t, "bad.example", 1))
		if _, err := d.Stage(context.Background(), zs); err == nil || !strings.Contains(err.Error(), "bad.example") {
			t.Fatalf("stage with an unnamable zone: %v", err)
		}
		des, _ := os.ReadDir(d.Path)
		if len(des) != 0 {
			t.Fatalf("%d files left after a failed stage", len(des))
		}
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") {
			t.Errorf("temporary file left: %s", de.Name())
		}
	}
}
