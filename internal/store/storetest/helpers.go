package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// fakeClock is an injected clock: tests move time instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Opener opens a fresh, empty store whose clock is now and arranges for it
// to be closed when t ends.
type Opener func(t testing.TB, now func() time.Time) store.Store

// openTest opens a fresh store on an injected clock.
func openTest(t testing.TB, o Opener) (store.Store, *fakeClock) {
	t.Helper()
	clock := newClock()
	return o(t, clock.Now), clock
}

// zoneText is a canonical-looking zone with extra A records.
func zoneText(name string, serial uint32, extra int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.\t3600\tIN\tSOA\tns1.%s. hostmaster.%s. %d 3600 600 1209600 300\n", name, name, name, serial)
	fmt.Fprintf(&b, "%s.\t3600\tIN\tNS\tns1.%s.\n", name, name)
	for i := range extra {
		fmt.Fprintf(&b, "host%d.%s.\t3600\tIN\tA\t192.0.2.%d\n", i, name, i%250+1)
	}
	return b.String()
}

// testZone is a push of name at serial.
func testZone(name string, serial uint32) store.Zone {
	return store.Zone{Name: name, Canonical: zoneText(name, serial, 3), Original: "; as pushed\n" + zoneText(name, serial, 3),
		Serial: serial, OwnerHost: "da1.example.net", OwnerUser: "alice"}
}

func mustPut(t testing.TB, s store.Store, name string, serial uint32) store.Zone {
	t.Helper()
	z, err := s.Put(context.Background(), testZone(name, serial))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func mustDelete(t testing.TB, s store.Store, name string) store.Zone {
	t.Helper()
	z, err := s.Delete(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func mustDue(t testing.TB, s store.Store, backend string, limit int) ([]store.Work, time.Time) {
	t.Helper()
	w, next, err := s.Due(context.Background(), backend, limit)
	if err != nil {
		t.Fatal(err)
	}
	return w, next
}

// dueNames lists the names and versions of due work as "name@v".
func dueNames(w []store.Work) []string {
	out := make([]string, len(w))
	for i, x := range w {
		out[i] = fmt.Sprintf("%s@%d", x.Zone.Name, x.Zone.Version)
	}
	return out
}

// applyAll records every due zone of backend as applied.
func applyAll(t testing.TB, s store.Store, backend string) {
	t.Helper()
	w, _ := mustDue(t, s, backend, 100000)
	var done []store.Applied
	for _, x := range w {
		done = append(done, store.Applied{Name: x.Zone.Name, Version: x.Zone.Version, Hash: x.Zone.Hash})
	}
	if err := s.Applied(context.Background(), backend, done); err != nil {
		t.Fatal(err)
	}
}

func stateOf(t testing.TB, s store.Store, zone, backend string) store.BackendState {
	t.Helper()
	states, err := s.BackendStates(context.Background(), zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Backend == backend {
			return st
		}
	}
	t.Fatalf("no state for %s on %s in %+v", zone, backend, states)
	return store.BackendState{}
}

func wantNotFound(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want store.ErrNotFound", err)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}
