package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// RunCopy copies a store with live zones and tombstones from one
// implementation to another (both Copiers): every row arrives as it was,
// versions continue, the target's backends are filled, and a second copy
// into the now non-empty target is refused.
func RunCopy(t *testing.T, from, to Opener) {
	ctx := context.Background()
	src, _ := openTest(t, from)
	mustPut(t, src, "a.example", 1)
	mustPut(t, src, "a.example", 2)
	mustPut(t, src, "gone.example", 1)
	mustDelete(t, src, "gone.example")
	for _, n := range []string{"b.example", "c.example"} {
		mustPut(t, src, n, 7)
	}
	dst, _ := openTest(t, to)
	live, tombs, err := store.Copy(ctx, src.(store.Copier), dst.(store.Copier))
	if err != nil || live != 3 || tombs != 1 {
		t.Fatalf("Copy = %d live, %d tombstones, %v", live, tombs, err)
	}
	if a, b := exportAll(t, src), exportAll(t, dst); !reflect.DeepEqual(a, b) {
		t.Fatalf("rows differ after copy:\n%+v\n%+v", a, b)
	}
	if z := mustPut(t, dst, "a.example", 3); z.Version != 3 {
		t.Fatalf("push after copy got version %d, want 3", z.Version)
	}
	if z := mustPut(t, dst, "gone.example", 2); z.Version != 3 {
		t.Fatalf("re-create after copy got version %d, want 3", z.Version)
	}
	if w, _ := mustDue(t, dst, "bind", 100); len(w) != 4 {
		t.Fatalf("target's new backend due %v; want every zone", dueNames(w))
	}
	if _, _, err := store.Copy(ctx, src.(store.Copier), dst.(store.Copier)); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("copy into a non-empty store: %v", err)
	}
}

func exportAll(t *testing.T, s store.Store) []store.Zone {
	t.Helper()
	var out []store.Zone
	if err := s.(store.Copier).Export(context.Background(), func(z store.Zone) error {
		out = append(out, z)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
