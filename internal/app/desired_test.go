package app

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/zone"
)

// TestStoredZone: the reader handed to coredns_mysql (SetDesired) gives
// the live stored zone, parsed (the cached one when the cache holds its
// hash), and ErrNotFound for a name never stored or deleted.
func TestStoredZone(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	parse := func(serial int) *zone.Zone {
		z, err := zone.Parse("example.com", []byte(e2eZone("example.com", serial)), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	v1, v2 := parse(1), parse(2)
	if _, err := st.Put(ctx, store.Zone{Name: "example.com", Canonical: v1.Text()}); err != nil {
		t.Fatal(err)
	}
	cache := zone.NewCache(4)
	read := storedZone(st, cache)
	got, err := read(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != v1.Hash() || got.Text() != v1.Text() {
		t.Fatalf("read %s, want the stored zone %s", got.Hash(), v1.Hash())
	}
	if _, err := st.Put(ctx, store.Zone{Name: "example.com", Canonical: v2.Text()}); err != nil {
		t.Fatal(err)
	}
	cache.Put(v2)
	if got, err := read(ctx, "example.com"); err != nil || got != v2 {
		t.Fatalf("read (%v, %v), want the cached zone of the stored hash", got, err)
	}
	if _, err := read(ctx, "other.example"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("a name never stored: %v, want ErrNotFound", err)
	}
	if _, err := st.Delete(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := read(ctx, "example.com"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("a deleted zone: %v, want ErrNotFound", err)
	}
}
