package zone

import "sync"

// Cache keeps recently parsed zones by content hash, so a zone parsed when
// it was pushed is not parsed again by every backend worker. Zones are
// immutable, so sharing them is safe. The oldest entries go first once
// the cache holds max zones. A nil *Cache holds nothing.
type Cache struct {
	mu   sync.Mutex
	max  int
	m    map[string]*Zone
	ring []string // hashes in insertion order
	next int
}

// NewCache returns a cache of at most max zones.
func NewCache(max int) *Cache {
	return &Cache{max: max, m: make(map[string]*Zone, max), ring: make([]string, max)}
}

// Put remembers z.
func (c *Cache) Put(z *Zone) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[z.hash]; ok {
		return
	}
	if old := c.ring[c.next]; old != "" {
		delete(c.m, old)
	}
	c.ring[c.next] = z.hash
	c.next = (c.next + 1) % c.max
	c.m[z.hash] = z
}

// Get returns the zone named name whose canonical text hashes to hash, or nil.
func (c *Cache) Get(name Name, hash string) *Zone {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	z := c.m[hash]
	c.mu.Unlock()
	if z == nil || z.Name != name {
		return nil
	}
	return z
}
