package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// liveStreamer is the optional capability reconciliation uses to read the
// live zones row by row; every implementation in this repository has it.
type liveStreamer interface {
	EachLive(ctx context.Context, fn func(store.Zone) error) error
}

// testEachLive: EachLive hands over exactly List's rows in List's order,
// without texts, skipping tombstones, and stops at fn's first error.
func testEachLive(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	st, ok := s.(liveStreamer)
	if !ok {
		t.Fatalf("%T has no EachLive", s)
	}
	for _, n := range []string{"b.example", "a.example", "c.example", "gone.example"} {
		mustPut(t, s, n, 1)
	}
	mustDelete(t, s, "gone.example")
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []store.Zone
	if err := st.EachLive(ctx, func(z store.Zone) error { got = append(got, z); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(list) || len(got) != 3 {
		t.Fatalf("EachLive gave %d rows, List %d (want 3)", len(got), len(list))
	}
	for i := range got {
		g, l := got[i], list[i]
		if g.Name != l.Name || g.Version != l.Version || g.Hash != l.Hash || g.OwnerHost != l.OwnerHost || g.Serial != l.Serial {
			t.Errorf("row %d: EachLive %+v, List %+v", i, g, l)
		}
		if g.Canonical != "" || g.Original != "" {
			t.Errorf("row %d carries texts", i)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := st.EachLive(ctx, func(store.Zone) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("EachLive after fn's error: %v after %d rows; want stop after 1", err, n)
	}
}
