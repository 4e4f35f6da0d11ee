package push

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/zone"
)

const (
	da1 = "da1.example.net"
	da2 = "da2.example.net"
)

// fixture is a push service on a fresh store that counts its wake-ups.
type fixture struct {
	st      store.Store
	svc     *Service
	changed int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st}
	f.svc = New(Options{Store: st, Changed: func() { f.changed++ },
		Owners: NewOwners(map[string][]string{da1: {"198.51.100.7"}})})
	return f
}

func zoneBody(name string, serial int, a string) []byte {
	return fmt.Appendf(nil, "$TTL 3600\n@ IN SOA ns1.%s. hostmaster.%s. %d 3600 600 1209600 300\n@ IN NS ns1.%s.\nns1 IN A %s\n",
		name, name, serial, name, a)
}

func (f *fixture) save(t *testing.T, name string, body []byte, host, user string) store.Zone {
	t.Helper()
	z, err := f.svc.Save(context.Background(), zone.Name(name), body, host, user)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func (f *fixture) get(t *testing.T, name string) store.Zone {
	t.Helper()
	z, err := f.st.Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// applied records every due zone of backend as applied, returning "name@v".
func (f *fixture) applied(t *testing.T, backend string) []string {
	t.Helper()
	ctx := context.Background()
	w, _, err := f.st.Due(ctx, backend, 0)
	if err != nil {
		t.Fatal(err)
	}
	var done []store.Applied
	var names []string
	for _, x := range w {
		done = append(done, store.Applied{Name: x.Zone.Name, Version: x.Zone.Version, Hash: x.Zone.Hash})
		names = append(names, fmt.Sprintf("%s@%d", x.Zone.Name, x.Zone.Version))
	}
	if err := f.st.Applied(ctx, backend, done); err != nil {
		t.Fatal(err)
	}
	return names
}

// TestIdenticalPushChangesNothing: DirectAdmin's duplicate saves of a new
// domain are acknowledged without a new version or backend work; a change
// of content, user or owner is stored.
func TestIdenticalPushChangesNothing(t *testing.T) {
	f := newFixture(t)
	body := zoneBody("dup.example", 1, "192.0.2.1")
	first := f.save(t, "dup.example", body, da1, "alice")
	if got := f.applied(t, "b1"); fmt.Sprint(got) != "[dup.example@1]" {
		t.Fatalf("first push: backend work %v", got)
	}
	wakes := f.changed

	// The same zone again, also spelled differently (the canonical hash is
	// what counts), from an alias of the owner, with and without user.
	respelled := []byte("\n\n$TTL 3600\ndup.example. 3600 IN SOA ns1.dup.example. hostmaster.dup.example. ( 1 3600 600 1209600 300 )\n" +
		"dup.example.\tIN NS ns1\nns1 3600 IN A 192.0.2.1\n")
	for _, p := range []struct {
		body       []byte
		host, user string
	}{{body, da1, "alice"}, {body, da1, ""}, {respelled, "DA1.example.net.", "alice"}, {body, "198.51.100.7", ""}} {
		got := f.save(t, "dup.example", p.body, p.host, p.user)
		if got.Version != first.Version {
			t.Fatalf("identical push from %q/%q returned version %d, want %d", p.host, p.user, got.Version, first.Version)
		}
	}
	cur := f.get(t, "dup.example")
	if cur.Version != 1 || cur.OwnerHost != da1 || cur.OwnerUser != "alice" || !cur.Updated.Equal(first.Updated) || cur.Original != string(body) {
		t.Fatalf("identical pushes changed the row: %+v", cur)
	}
	if w := f.applied(t, "b1"); len(w) != 0 || f.changed != wakes {
		t.Fatalf("identical pushes made backend work %v (wake-ups %d → %d)", w, wakes, f.changed)
	}

	// Another user of the same server: a change.
	if z := f.save(t, "dup.example", body, da1, "bob"); z.Version != 2 || z.OwnerUser != "bob" {
		t.Fatalf("user change = %+v", z)
	}
	// New content: a change.
	if z := f.save(t, "dup.example", zoneBody("dup.example", 1, "192.0.2.9"), da1, "bob"); z.Version != 3 {
		t.Fatalf("content change = %+v", z)
	}
	if got := f.applied(t, "b1"); fmt.Sprint(got) != "[dup.example@3]" {
		t.Fatalf("changes: backend work %v", got)
	}
}

// TestIdenticalPushFromNewOwnerTransfers: a migrated domain arrives from
// its new DA server with the same content; ownership moves (a new version,
// so deletes and reconciliation planned against the old owner see the
// change), and the old owner's delete is refused.
func TestIdenticalPushFromNewOwnerTransfers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	body := zoneBody("moved.example", 5, "192.0.2.1")
	f.save(t, "moved.example", body, da1, "alice")
	z := f.save(t, "moved.example", body, da2, "carol")
	if z.Version != 2 || z.OwnerHost != da2 || z.OwnerUser != "carol" {
		t.Fatalf("transfer = %+v", z)
	}
	if out, err := f.svc.Delete(ctx, "moved.example", da1); err != nil || out != NotOwner {
		t.Fatalf("old owner's delete = %v, %v", out, err)
	}
	if cur := f.get(t, "moved.example"); cur.OwnerHost != da2 || cur.Version != 2 {
		t.Fatalf("after the old owner's delete: %+v", cur)
	}
}

// TestDeleteRacingTransfer runs the new owner's push between the old
// owner's ownership check and its tombstone: the migrated zone survives.
func TestDeleteRacingTransfer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.save(t, "race.example", zoneBody("race.example", 1, "192.0.2.1"), da1, "alice")
	pushes := 0
	f.svc.beforeTombstone = func() {
		if pushes++; pushes == 1 {
			f.save(t, "race.example", zoneBody("race.example", 2, "192.0.2.2"), da2, "carol")
		}
	}
	out, err := f.svc.Delete(ctx, "race.example", da1)
	if err != nil || out != NotOwner {
		t.Fatalf("old owner's delete = %v, %v; want NotOwner", out, err)
	}
	cur, err := f.st.Get(ctx, "race.example")
	if err != nil || cur.OwnerHost != da2 || cur.Serial != 2 {
		t.Fatalf("migrated zone after the old owner's delete: %+v, %v", cur, err)
	}
}

// TestDeleteRacingSameOwnerPush: a newer push by the owner itself between
// check and tombstone does not stop the owner's delete; it is decided
// again and deletes the newer version.
func TestDeleteRacingSameOwnerPush(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.save(t, "again.example", zoneBody("again.example", 1, "192.0.2.1"), da1, "alice")
	pushes := 0
	f.svc.beforeTombstone = func() {
		if pushes++; pushes == 1 {
			f.save(t, "again.example", zoneBody("again.example", 2, "192.0.2.2"), da1, "alice")
		}
	}
	if out, err := f.svc.Delete(ctx, "again.example", da1); err != nil || out != Deleted {
		t.Fatalf("delete = %v, %v", out, err)
	}
	if pushes != 2 {
		t.Fatalf("ownership checked %d times, want 2", pushes)
	}
	z, err := f.st.Lookup(ctx, "again.example")
	if err != nil || !z.Deleted || z.Version != 3 {
		t.Fatalf("after delete: %+v, %v", z, err)
	}
}

// TestDeleteOwnership: a DA delete needs the owner (through aliases); an
// empty host matches no owned zone; the operator's DeleteAny deletes
// whoever owns it.
func TestDeleteOwnership(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, n := range []string{"a.example", "b.example"} {
		f.save(t, n, zoneBody(n, 1, "192.0.2.1"), da1, "alice")
	}
	cases := []struct {
		name, host string
		want       Outcome
	}{
		{"a.example", "", NotOwner},
		{"a.example", da2, NotOwner},
		{"a.example", "198.51.100.7", Deleted},
		{"a.example", da1, Absent},
		{"never.example", da1, Absent},
	}
	for _, c := range cases {
		if out, err := f.svc.Delete(ctx, zone.Name(c.name), c.host); err != nil || out != c.want {
			t.Fatalf("Delete(%s, %q) = %v, %v; want %v", c.name, c.host, out, err, c.want)
		}
	}
	if out, err := f.svc.DeleteAny(ctx, "b.example"); err != nil || out != Deleted {
		t.Fatalf("DeleteAny = %v, %v", out, err)
	}
	if out, err := f.svc.DeleteAny(ctx, "b.example"); err != nil || out != Absent {
		t.Fatalf("DeleteAny again = %v, %v", out, err)
	}
}

// TestConcurrentSavesLastAckWins saves one zone from 16 goroutines at once
// (their commits are grouped): each save gets its own version, and the
// stored zone is the one whose acknowledgement carried the last version.
func TestConcurrentSavesLastAckWins(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var wakes atomic.Int64
	svc := New(Options{Store: st, Changed: func() { wakes.Add(1) }})
	const n = 16
	acks := make([]store.Zone, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			z, err := svc.Save(context.Background(), "last.example", zoneBody("last.example", 100+i, "192.0.2.1"), da1, "alice")
			if err != nil {
				t.Error(err)
			}
			acks[i] = z
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	var last store.Zone
	for _, a := range acks {
		if seen[a.Version] {
			t.Fatalf("version %d acknowledged twice", a.Version)
		}
		seen[a.Version] = true
		if a.Version > last.Version {
			last = a
		}
	}
	cur, err := st.Get(context.Background(), "last.example")
	if err != nil {
		t.Fatal(err)
	}
	if cur.Version != n || last.Version != n || cur.Serial != last.Serial || cur.Hash != last.Hash {
		t.Fatalf("stored %d (serial %d), last ack %d (serial %d)", cur.Version, cur.Serial, last.Version, last.Serial)
	}
	if wakes.Load() != n {
		t.Fatalf("%d wake-ups for %d changes", wakes.Load(), n)
	}
}

// TestCommittedInCommitOrder saves one zone from 16 goroutines at once and
// deletes it: Committed hears of every change, in version order, each
// with its parsed zone (none for the tombstone), so that a backend worker
// handed these changes never goes back to an older version.
func TestCommittedInCommitOrder(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	var rows []store.Zone
	svc := New(Options{Store: st, Committed: func(row store.Zone, z *zone.Zone) {
		if !row.Deleted && (z == nil || z.Hash() != row.Hash) {
			t.Errorf("version %d handed over without its parsed zone", row.Version)
		}
		mu.Lock()
		rows = append(rows, row)
		mu.Unlock()
	}})
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := svc.Save(context.Background(), "order.example", zoneBody("order.example", 100+i, "192.0.2.1"), da1, "alice"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if out, err := svc.Delete(context.Background(), "order.example", da1); err != nil || out != Deleted {
		t.Fatalf("delete: %v %v", out, err)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d changes handed over, want %d", len(rows), n+1)
	}
	for i, r := range rows {
		if r.Version != int64(i+1) {
			t.Fatalf("change %d handed over with version %d: not in commit order", i, r.Version)
		}
	}
	if !rows[n].Deleted {
		t.Fatal("the delete was not handed over as a tombstone")
	}
	if len(svc.zones.m) != 0 {
		t.Fatalf("zone locks left behind: %d", len(svc.zones.m))
	}
}
