package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestStoreCopyCommand moves a single node's SQLite state to MariaDB and
// back with `dadns store copy`, and refuses a copy into a store with zones.
func TestStoreCopyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, back := filepath.Join(dir, "first.db"), filepath.Join(dir, "back.db")
	st, err := sqlite.Open(ctx, first, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.example", "b.example", "gone.example"} {
		if _, err := st.Put(ctx, store.Zone{Name: name, Canonical: e2eZone(name, 5), OwnerHost: "da1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Delete(ctx, "gone.example"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	run := func(from, to string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(ctx, []string{"store", "copy", "--from", from, "--to", to}, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("sqlite:"+first, "mysql:"+dsn); code != 0 || !strings.Contains(out, "copied 2 zones and 1 deleted") {
		t.Fatalf("copy to mysql: %d %s", code, out)
	}
	if code, out := run("mysql:"+dsn, "sqlite:"+back); code != 0 || !strings.Contains(out, "copied 2 zones and 1 deleted") {
		t.Fatalf("copy back: %d %s", code, out)
	}
	if code, out := run("sqlite:"+first, "mysql:"+dsn); code != 1 || !strings.Contains(out, "already holds zones") || strings.Contains(out, srv.Password) {
		t.Fatalf("copy into a non-empty store: %d %s", code, out)
	}
	st, err = sqlite.Open(ctx, back, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	z, err := st.Lookup(ctx, "gone.example")
	if err != nil || !z.Deleted || z.Version != 2 {
		t.Fatalf("tombstone after the round trip: %+v, %v", z, err)
	}
	if z, err := st.Get(ctx, "a.example"); err != nil || z.Canonical != e2eZone("a.example", 5) || z.Version != 1 {
		t.Fatalf("zone after the round trip: %+v, %v", z, err)
	}
}
