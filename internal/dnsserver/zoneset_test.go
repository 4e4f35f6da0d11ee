package dnsserver

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

func testServed(origin string) *servedZone {
	return &servedZone{packedZone: &packedZone{origin: origin}}
}

// TestZoneSetEdit checks that an edited copy of a zone set changes only
// itself: the set it came from (a snapshot's) keeps every zone it had,
// and the copy shares the shards it did not change.
func TestZoneSetEdit(t *testing.T) {
	base := (&zoneSet{}).edit()
	zones := map[string]*servedZone{}
	for i := range 2000 {
		o := fmt.Sprintf("z%d.example.", i)
		zones[o] = testServed(o)
		base.set(zones[o])
	}
	base.done()
	if base.len() != 2000 {
		t.Fatalf("%d zones, want 2000", base.len())
	}
	c := base.edit()
	repl := testServed("z1.example.")
	c.set(repl)
	c.del("z2.example.")
	c.del("none.example.")
	c.set(testServed("new.example."))
	c.done()
	if c.len() != 2000 || c.get("z1.example.") != repl || c.get("z2.example.") != nil || c.get("new.example.") == nil {
		t.Fatalf("edited copy: %d zones, z1 replaced %v, z2 gone %v", c.len(), c.get("z1.example.") == repl, c.get("z2.example.") == nil)
	}
	n := 0
	base.each(func(o string, z *servedZone) {
		if zones[o] != z {
			t.Fatalf("%s changed in the original set", o)
		}
		n++
	})
	if n != 2000 || base.get("new.example.") != nil {
		t.Fatalf("original set: %d zones, new zone present %v", n, base.get("new.example.") != nil)
	}
	shared := 0
	for i := range c.shards {
		if c.shards[i].slots == base.shards[i].slots {
			shared++
		}
	}
	if shared < zoneShards-3 { // z1, z2 and new.example.: three shards at most
		t.Fatalf("only %d of %d shards shared after changing three zones", shared, zoneShards)
	}
}

// TestZoneSetDeleteInPlace removes most zones of a set in one edit (the
// shards are the copy's own, so entries are deleted in place, moving
// others back in their probe runs): every zone left is still found, by
// get and by the query path, and none removed is.
func TestZoneSetDeleteInPlace(t *testing.T) {
	m := (&zoneSet{}).edit()
	const n = 5000
	for i := range n {
		m.set(testServed(fmt.Sprintf("z%d.example.", i)))
	}
	for i := range n {
		if i%5 != 0 {
			m.del(fmt.Sprintf("z%d.example.", i))
		}
	}
	m.done()
	if m.len() != n/5 {
		t.Fatalf("%d zones left, want %d", m.len(), n/5)
	}
	snap := &snapshot{zones: m}
	for i := range n {
		o := fmt.Sprintf("z%d.example.", i)
		z := m.get(o)
		if (z != nil) != (i%5 == 0) || (z != nil && z.origin != o) {
			t.Fatalf("%s: got %v", o, z)
		}
		if f := snap.find("www."+o, dns.TypeA); f != z {
			t.Fatalf("find www.%s: %v, want %v", o, f, z)
		}
	}
	seen := 0
	m.each(func(string, *servedZone) { seen++ })
	if seen != n/5 {
		t.Fatalf("each saw %d zones", seen)
	}
}

// TestSnapshotFindMostSpecific checks the query path's zone choice: the
// most specific zone, DS at an apex to the parent, names of more labels
// than the hashes find keeps at once, the root zone's apex.
func TestSnapshotFindMostSpecific(t *testing.T) {
	m := (&zoneSet{}).edit()
	for _, o := range []string{"example.", "a.example.", "b.c.d.e.f.g.h.i.j.example."} {
		m.set(testServed(o))
	}
	snap := &snapshot{zones: m.done()}
	for _, c := range []struct {
		name string
		t    uint16
		want string
	}{
		{"www.a.example.", dns.TypeA, "a.example."},
		{"a.example.", dns.TypeA, "a.example."},
		{"a.example.", dns.TypeDS, "example."},
		{"example.", dns.TypeDS, "example."},
		{"x.y.z.b.c.d.e.f.g.h.i.j.example.", dns.TypeA, "b.c.d.e.f.g.h.i.j.example."},
		{"1.2.3.4.5.6.7.8.9.10.example.", dns.TypeA, "example."},
		{"other.", dns.TypeA, ""},
	} {
		z := snap.find(c.name, c.t)
		got := ""
		if z != nil {
			got = z.origin
		}
		if got != c.want {
			t.Errorf("find(%s, %d) = %q, want %q", c.name, c.t, got, c.want)
		}
	}
	m = m.edit()
	m.set(testServed("."))
	snap = &snapshot{zones: m.done()}
	if z := snap.find(".", dns.TypeSOA); z == nil || z.origin != "." {
		t.Errorf("with the root zone, . found %v", z)
	}
}

// TestCacheHintFollowsGrowth checks the zone table's cache hints: an
// answer put after the hint was taken (the cache table has grown since)
// is still found, the hint then follows the current table, and a copy of
// the shard made by an edit keeps answering from the same cache.
func TestCacheHintFollowsGrowth(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	m := (&zoneSet{}).edit()
	z := newServedZone(&packedZone{origin: "hint.example."}, s.budget)
	m.set(z)
	snap := &snapshot{zones: m.done()}
	sl := snap.findSlot("hint.example.", dns.TypeA)
	if sl == nil || sl.z != z {
		t.Fatal("zone not found")
	}
	key := func(i int) string { return fmt.Sprintf("k%d", i) }
	z.cache.put(key(0), []byte("a0"))
	if w, ok := s.cachedAnswer(sl, key(0), slotHash(key(0))); !ok || string(w) != "a0" {
		t.Fatalf("k0: %q %v", w, ok)
	}
	first := sl.hint.Load()
	for i := 1; i < 100; i++ { // the table grows several times
		z.cache.put(key(i), []byte(fmt.Sprintf("a%d", i)))
	}
	if sl.hint.Load() != first {
		t.Fatal("the hint changed without a query")
	}
	for i := range 100 {
		if w, ok := s.cachedAnswer(sl, key(i), slotHash(key(i))); !ok || string(w) != fmt.Sprintf("a%d", i) {
			t.Fatalf("%s: %q %v", key(i), w, ok)
		}
	}
	if sl.hint.Load() != z.cache.tab.Load() {
		t.Fatal("the hint does not follow the grown table")
	}
	if _, ok := s.cachedAnswer(sl, "missing", slotHash("missing")); ok {
		t.Fatal("found an answer never put")
	}
	// An edit that copies the shard (another zone in it) keeps the zone,
	// its cache and the hint.
	e := snap.zones.edit()
	for i := range 2000 {
		e.set(testServed(fmt.Sprintf("o%d.example.", i)))
	}
	e.del("o1.example.")
	snap2 := &snapshot{zones: e.done()}
	sl2 := snap2.findSlot("www.hint.example.", dns.TypeA)
	if sl2 == nil || sl2.z != z || sl2.hint.Load() != z.cache.tab.Load() {
		t.Fatal("zone, or its hint, lost in the edited copy")
	}
	if w, ok := s.cachedAnswer(sl2, key(99), slotHash(key(99))); !ok || string(w) != "a99" {
		t.Fatalf("k99 from the edited copy: %q %v", w, ok)
	}
}
