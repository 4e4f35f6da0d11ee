package zone

import (
	"fmt"
	"testing"
)

func TestCache(t *testing.T) {
	c := NewCache(2)
	mk := func(name string) *Zone {
		z, err := Parse(Name(name), []byte(fmt.Sprintf("@ 60 IN SOA ns.%[1]s. h.%[1]s. 1 1 1 1 1\n@ 60 IN NS ns.%[1]s.\n", name)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	a, b, d := mk("a.example"), mk("b.example"), mk("d.example")
	c.Put(a)
	c.Put(b)
	if c.Get(a.Name, a.Hash()) != a || c.Get(b.Name, b.Hash()) != b {
		t.Fatal("cached zones not found")
	}
	if c.Get("other.example", a.Hash()) != nil {
		t.Fatal("a zone returned under another name")
	}
	c.Put(d)
	if c.Get(a.Name, a.Hash()) != nil || c.Get(d.Name, d.Hash()) != d {
		t.Fatal("oldest entry not evicted first")
	}
	var nilCache *Cache
	nilCache.Put(a)
	if nilCache.Get(a.Name, a.Hash()) != nil {
		t.Fatal("nil cache returned a zone")
	}
}
