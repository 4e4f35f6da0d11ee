package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

func testVersionsMonotonicAcrossDelete(t *testing.T, o Opener) {
	ctx := context.Background()
	s, clock := openTest(t, o)

	v1 := mustPut(t, s, "example.com", 1)
	if v1.Version != 1 || v1.Hash != store.HashText(v1.Canonical) || v1.Deleted {
		t.Fatalf("first put: %+v", v1)
	}
	clock.Advance(time.Minute)
	v2 := mustPut(t, s, "example.com", 2)
	if v2.Version != 2 || !v2.Created.Equal(v1.Created) || !v2.Updated.After(v1.Updated) {
		t.Fatalf("second put: %+v", v2)
	}
	got, err := s.Get(ctx, "example.com")
	if err != nil || got != v2 {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, v2)
	}

	clock.Advance(time.Minute)
	del := mustDelete(t, s, "example.com")
	if del.Version != 3 || !del.Deleted || del.Canonical != "" || del.Original != "" || del.Hash != "" ||
		del.OwnerHost != "da1.example.net" || del.OwnerUser != "alice" {
		t.Fatalf("delete: %+v", del)
	}
	_, err = s.Get(ctx, "example.com")
	wantNotFound(t, err)
	_, err = s.Delete(ctx, "example.com")
	wantNotFound(t, err)
	look, err := s.Lookup(ctx, "example.com")
	if err != nil || look != del {
		t.Fatalf("Lookup tombstone = %+v, %v; want %+v", look, err, del)
	}

	clock.Advance(time.Minute)
	re := mustPut(t, s, "example.com", 1)
	if re.Version != 4 || re.Deleted || !re.Created.Equal(clock.Now()) {
		t.Fatalf("re-create: %+v", re)
	}
}

func testNotFound(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	_, err := s.Get(ctx, "nowhere.example")
	wantNotFound(t, err)
	_, err = s.Lookup(ctx, "nowhere.example")
	wantNotFound(t, err)
	_, err = s.Delete(ctx, "nowhere.example")
	wantNotFound(t, err)
}

func testPutNormalizesAndChecks(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	z := testZone("Example.ORG.", 7)
	got, err := s.Put(ctx, z)
	if err != nil || got.Name != "example.org" {
		t.Fatalf("Put = %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, "EXAMPLE.org."); err != nil {
		t.Fatalf("case-insensitive Get: %v", err)
	}
	bad := []store.Zone{
		{Name: "", Canonical: "x"},
		{Name: ".", Canonical: "x"},
		{Name: "example.net"},
		{Name: "example.net", Canonical: "x", Hash: "00"},
	}
	for _, z := range bad {
		if _, err := s.Put(ctx, z); err == nil {
			t.Errorf("Put(%+v) succeeded", z)
		}
	}
	if _, err := s.Put(ctx, store.Zone{Name: "example.net", Canonical: "x", Hash: store.HashText("x")}); err != nil {
		t.Errorf("Put with the right hash: %v", err)
	}
}

func testLiveListCount(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	for _, n := range []string{"b.example", "a.example", "c.example", "gone.example"} {
		mustPut(t, s, n, 1)
	}
	mustDelete(t, s, "gone.example")

	if n, err := s.CountLive(ctx); err != nil || n != 3 {
		t.Fatalf("CountLive = %d, %v", n, err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, z := range list {
		names = append(names, z.Name)
		if z.Canonical != "" || z.Original != "" || z.Hash == "" || z.OwnerHost == "" {
			t.Errorf("List row %+v: want metadata without texts", z)
		}
	}
	if !equalStrings(names, []string{"a.example", "b.example", "c.example"}) {
		t.Fatalf("List names = %v", names)
	}

	// More names than one IN list holds.
	ask := []string{"A.example.", "gone.example", "missing.example"}
	for i := range 1200 {
		ask = append(ask, fmt.Sprintf("n%d.example", i))
	}
	ask = append(ask, "c.example")
	live, err := s.Live(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 || live["a.example"].OwnerHost != "da1.example.net" || live["c.example"].Name != "c.example" {
		t.Fatalf("Live = %+v", live)
	}

	full, err := s.Zones(ctx, []string{"a.example", "gone.example", "missing.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 2 || full["a.example"].Canonical == "" || !full["gone.example"].Deleted {
		t.Fatalf("Zones = %+v", full)
	}
}

func testEmptyStore(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	if l, err := s.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("List = %v, %v", l, err)
	}
	if m, err := s.Live(ctx, nil); err != nil || len(m) != 0 {
		t.Fatalf("Live(nil) = %v, %v", m, err)
	}
	if n, err := s.CountLive(ctx); err != nil || n != 0 {
		t.Fatalf("CountLive = %d, %v", n, err)
	}
}

func testOriginalTextRoundTrip(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	z := testZone("example.com", 1)
	z.Original = "; odd bytes \x00\xff\xfe ünïcode\r\n" + z.Original
	if _, err := s.Put(ctx, z); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "example.com")
	if err != nil || got.Original != z.Original || got.Canonical != z.Canonical {
		t.Fatalf("round trip: %q, %v", got.Original, err)
	}
}
