package dnsserver

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
)

// cowMap maps names to values, split into shards by a hash of the name so
// that a change copies only the shards it touches: a push of one zone
// into a server holding 100,000 copies a few hundred entries, not the
// whole map (cloning one map was 8.5 ms of CPU and 3.5 MB of garbage per
// push at that size). A cowMap that readers see is never changed; writers
// change a copy made by edit and publish it when done.
type cowMap[V comparable] struct {
	shards [cowShards]map[string]V
	n      int
	// owned marks the shards this copy made for itself (edit only).
	owned *[cowShards]bool
}

const cowShards = 256

func shardOf(name string) int { return int(maphash.String(nameSeed, name) % cowShards) }

// get returns the value for name, the zero value for none.
func (m *cowMap[V]) get(name string) V {
	if m.n == 0 {
		var zero V
		return zero
	}
	return m.shards[shardOf(name)][name]
}

func (m *cowMap[V]) len() int { return m.n }

// each calls fn for every entry, in no order.
func (m *cowMap[V]) each(fn func(name string, v V)) {
	for _, s := range m.shards {
		for k, v := range s {
			fn(k, v)
		}
	}
}

// edit returns a copy of m that set and del may change; m stays as it is.
// The copy shares every shard until it changes one.
func (m *cowMap[V]) edit() *cowMap[V] {
	return &cowMap[V]{shards: m.shards, n: m.n, owned: new([cowShards]bool)}
}

// shard returns shard i of an edited copy, copied first if it is still
// shared.
func (m *cowMap[V]) shard(i int) map[string]V {
	if !m.owned[i] {
		s := make(map[string]V, len(m.shards[i])+1)
		for k, v := range m.shards[i] {
			s[k] = v
		}
		m.shards[i] = s
		m.owned[i] = true
	}
	return m.shards[i]
}

// has reports whether name has an entry.
func (m *cowMap[V]) has(name string) bool {
	_, ok := m.shards[shardOf(name)][name]
	return ok
}

// set sets the value for name in an edited copy.
func (m *cowMap[V]) set(name string, v V) {
	s := m.shard(shardOf(name))
	if _, ok := s[name]; !ok {
		m.n++
	}
	s[name] = v
}

// del removes name from an edited copy.
func (m *cowMap[V]) del(name string) {
	i := shardOf(name)
	if _, ok := m.shards[i][name]; !ok {
		return
	}
	delete(m.shard(i), name)
	m.n--
}

// done ends the edits: the copy may be published to readers.
func (m *cowMap[V]) done() *cowMap[V] {
	m.owned = nil
	return m
}

// zoneSet is the served zones of a snapshot by canonical origin, laid out
// for the query path: finding a query's zone costs one probe of a flat
// table per label of its name, each probe one likely cache miss (with a
// Go map it was several dependent ones: the map's groups, then the key's
// bytes). Entries are a name hash, the zone and a hint to its cache, 24 bytes, in open-addressed
// tables (linear probing, at most half full), one per shard; the shards'
// headers sit in the zoneSet itself, so a probe loads the shard header
// (8 KiB in all, shared by every query, so cache-resident) and then the
// slot. Like cowMap, a change copies only the shards it touches.
//
// The query path (find) matches zones by their 64-bit name hash alone,
// as packedZone.names matches names: the seed is random for each process,
// so a collision cannot be made up from outside, and an accidental one
// is about as likely as a memory error. get, for everything else, also
// compares the origin.
type zoneSet struct {
	shards [zoneShards]zoneShard
	n      int
	// owned marks the shards this copy made for itself (edit only).
	owned *[zoneShards]bool
}

// 512 shards: a push copies 8 KiB of headers and one table of about 200
// entries (12 KiB) at 100,000 zones, about what one map shard cost.
const (
	zoneShards     = 512
	zoneShardShift = 64 - 9
)

// zoneShard is one open-addressed table: slots (mask+1 of them), used of
// them taken. A published shard is never changed.
type zoneShard struct {
	slots *zoneSlot
	mask  uint32
	used  uint32
}

// zoneSlot is one entry; hash 0 marks an empty slot (hashes are never 0).
// hint is z's answer cache table as the query path last saw it (the
// only field of a published slot that changes): a query that finds its
// answer there never loads the servedZone. A stale hint is a smaller
// table of the same zone's answers, still valid (see answerCache.grow).
type zoneSlot struct {
	hash uint64
	z    *servedZone
	hint atomic.Pointer[cacheSlot]
}

// zoneHash is the table's hash of a canonical name, never 0.
func zoneHash(name string) uint64 { return maphash.String(nameSeed, name) | 1 }

func (s *zoneShard) at(i uint32) *zoneSlot {
	return (*zoneSlot)(unsafe.Add(unsafe.Pointer(s.slots), uintptr(i)*unsafe.Sizeof(zoneSlot{})))
}

// lookup returns the slot of the zone stored under hash h, nil for none.
func (t *zoneSet) lookup(h uint64) *zoneSlot {
	s := &t.shards[h>>zoneShardShift]
	if s.slots == nil {
		return nil
	}
	for i := uint32(h) & s.mask; ; i = (i + 1) & s.mask {
		sl := s.at(i)
		switch sl.hash {
		case h:
			return sl
		case 0:
			return nil
		}
	}
}

// get returns the zone served under the canonical origin name, nil for
// none.
func (t *zoneSet) get(name string) *servedZone {
	h := zoneHash(name)
	s := &t.shards[h>>zoneShardShift]
	if s.slots == nil {
		return nil
	}
	for i := uint32(h) & s.mask; ; i = (i + 1) & s.mask {
		sl := s.at(i)
		if sl.hash == 0 {
			return nil
		}
		if sl.hash == h && sl.z.origin == name {
			return sl.z
		}
	}
}

func (t *zoneSet) len() int { return t.n }

// each calls fn for every zone, in no order.
func (t *zoneSet) each(fn func(origin string, z *servedZone)) {
	for i := range t.shards {
		s := &t.shards[i]
		if s.slots == nil {
			continue
		}
		for j := range s.mask + 1 {
			if sl := s.at(j); sl.hash != 0 {
				fn(sl.z.origin, sl.z)
			}
		}
	}
}

// edit returns a copy of t that set and del may change; t stays as it is.
// The copy shares every shard until it changes one.
func (t *zoneSet) edit() *zoneSet {
	return &zoneSet{shards: t.shards, n: t.n, owned: new([zoneShards]bool)}
}

// rebuild replaces shard i of an edited copy by a copy of its entries
// (but drop) in a table of at least room entries at most half full.
func (t *zoneSet) rebuild(i int, room uint32, drop uint64) {
	old := t.shards[i]
	size := uint32(8)
	for size < 2*room {
		size *= 2
	}
	table := make([]zoneSlot, size)
	ns := zoneShard{slots: &table[0], mask: size - 1}
	if old.slots != nil {
		for j := range old.mask + 1 {
			if sl := old.at(j); sl.hash != 0 && sl.hash != drop {
				ns.put(sl.hash, sl.z).hint.Store(sl.hint.Load())
			}
		}
	}
	t.shards[i] = ns
	t.owned[i] = true
}

// put stores z under h in the first free slot of h's probe sequence, or
// over the entry with the same hash, and returns the slot (without a
// hint).
func (s *zoneShard) put(h uint64, z *servedZone) *zoneSlot {
	for i := uint32(h) & s.mask; ; i = (i + 1) & s.mask {
		sl := s.at(i)
		if sl.hash == 0 {
			s.used++
		} else if sl.hash != h {
			continue
		}
		sl.hash, sl.z = h, z
		sl.hint.Store(nil)
		return sl
	}
}

// has reports whether origin has a zone.
func (t *zoneSet) has(origin string) bool { return t.get(origin) != nil }

// set serves z (under its origin) in an edited copy, replacing the zone
// served there. Two origins with the same hash cannot both be served; a
// 64-bit collision between canonical names under a random seed is not
// expected to happen.
func (t *zoneSet) set(z *servedZone) {
	h := zoneHash(z.origin)
	i := int(h >> zoneShardShift)
	s := &t.shards[i]
	if !t.owned[i] || 2*(s.used+1) > s.mask+1 {
		t.rebuild(i, s.used+1, 0)
		s = &t.shards[i]
	}
	before := s.used
	s.put(h, z)
	t.n += int(s.used - before)
}

// del stops serving origin in an edited copy.
func (t *zoneSet) del(origin string) {
	if t.get(origin) == nil {
		return
	}
	h := zoneHash(origin)
	i := int(h >> zoneShardShift)
	if !t.owned[i] {
		t.rebuild(i, t.shards[i].used, h)
	} else {
		t.shards[i].remove(h)
	}
	t.n--
}

// remove deletes the entry stored under h from a shard no reader sees,
// moving later entries of the probe run back so that every entry stays
// reachable from its home slot (backward-shift deletion).
func (s *zoneShard) remove(h uint64) {
	i := uint32(h) & s.mask
	for s.at(i).hash != h {
		i = (i + 1) & s.mask
	}
	for j := i; ; {
		j = (j + 1) & s.mask
		sl := s.at(j)
		if sl.hash == 0 {
			break
		}
		home := uint32(sl.hash) & s.mask
		// The entry at j may move to i when its home is not within (i, j]
		// (cyclically).
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			to := s.at(i)
			to.hash, to.z = sl.hash, sl.z
			to.hint.Store(sl.hint.Load())
			i = j
		}
	}
	last := s.at(i)
	last.hash, last.z = 0, nil
	last.hint.Store(nil)
	s.used--
}

// done ends the edits: the copy may be published to readers.
func (t *zoneSet) done() *zoneSet {
	t.owned = nil
	return t
}
