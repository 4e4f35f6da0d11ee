package dnsserver

import (
	"fmt"
	"testing"
)

// TestZoneSetEdit checks that an edited copy of a zone set changes only
// itself: the set it came from (a snapshot's) keeps every zone it had,
// and the copy shares the shards it did not change.
func TestZoneSetEdit(t *testing.T) {
	base := (&zoneSet{}).edit()
	zones := map[string]*servedZone{}
	for i := range 2000 {
		o := fmt.Sprintf("z%d.example.", i)
		zones[o] = &servedZone{}
		base.set(o, zones[o])
	}
	base.done()
	if base.len() != 2000 {
		t.Fatalf("%d zones, want 2000", base.len())
	}
	c := base.edit()
	repl := &servedZone{}
	c.set("z1.example.", repl)
	c.del("z2.example.")
	c.del("none.example.")
	c.set("new.example.", &servedZone{})
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
		if len(c.shards[i]) > 0 && fmt.Sprintf("%p", c.shards[i]) == fmt.Sprintf("%p", base.shards[i]) {
			shared++
		}
	}
	if shared < cowShards-3 {
		t.Fatalf("only %d of %d shards shared after changing three zones", shared, cowShards)
	}
}
