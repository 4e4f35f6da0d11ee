package dnsserver

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/miekg/dns"
)

// answerCache keeps packed answers from one zone for one Server. The
// zone's data never changes under it: Apply gives a changed zone a new,
// empty cache (see servedZone), so an entry never goes stale. Only names
// that exist in the zone are cached, and all the caches of a Server stop
// growing at one shared bound, so random names cannot evict anything.
//
// Entries are only ever added, so a lookup takes no lock: the table is an
// open-addressed array of slots, each written once (its data, then its
// hash, which readers look at first), replaced by a bigger copy (under mu,
// which serialises the writers) when it is three quarters full. A lookup
// touches the cache, the slots it probes and the entry's bytes: no other
// pointer is followed (each one is a likely cache miss with 100,000 zones).
type answerCache struct {
	mu sync.Mutex
	// tab is the table: slot 0 is its header (hash holds the mask), the
	// entries follow. nil: none yet. The zone table keeps a copy of the
	// pointer next to the zone (zoneSlot.hint), so that a query finds its
	// answer without loading the servedZone.
	tab    atomic.Pointer[cacheSlot]
	used   int // guarded by mu
	n      atomic.Int64
	budget *cacheBudget
}

// cacheSlot is one entry, 16 bytes: data holds the key's length and the
// answer's (two bytes each, big-endian), the key, then the answer.
type cacheSlot struct {
	hash atomic.Uint64 // 0 while empty (hashes are never 0)
	data atomic.Pointer[byte]
}

// entryHead is the length of the lengths in front of an entry's key.
const entryHead = 4

// cacheBudget is the bound that all the zone caches of a Server share.
// A fixed bound (Options.CacheEntries) stays; the default one follows the
// zones served (see scale).
type cacheBudget struct {
	n    atomic.Int64
	max  atomic.Int64
	auto bool
}

// Without a configured bound the cache may hold perZoneEntries answers for
// each zone served, and at least minCacheEntries. A DirectAdmin-shaped
// zone has about ten names that are asked for (the apex's MX, TXT and NS,
// www, mail, ftp, _dmarc...) and a few closest-encloser templates; about
// 200 to 400 bytes each, so the cache grows to a few KiB per zone when
// every zone is asked about, and no further.
const (
	minCacheEntries = 65536
	perZoneEntries  = 16
)

func newCacheBudget(entries int) *cacheBudget {
	b := &cacheBudget{auto: entries == 0}
	if b.auto {
		entries = minCacheEntries
	}
	b.max.Store(int64(entries))
	return b
}

// scale sets a default bound for zones served.
func (b *cacheBudget) scale(zones int) {
	if b.auto {
		b.max.Store(max(minCacheEntries, perZoneEntries*int64(zones)))
	}
}

// dropped is what a discarded cache's count is set to: far below zero,
// so that puts racing with the drop never count against the budget.
const dropped = math.MinInt64 / 2

// A cache key is the query name in lower-case wire form, the query type
// and the flags below: everything besides the zone data that shapes an
// answer. The message ID, the case of the question and the CD bit are
// patched in, the size limit is checked on the way out.
const (
	keyDO uint8 = 1 << iota
	keyRD
	keyMinimal
	keyEDNS
)

func keyFlags(q query, edns bool) uint8 {
	var f uint8
	for _, b := range []struct {
		on  bool
		bit uint8
	}{{q.do, keyDO}, {q.noAuth, keyRD}, {q.minimal, keyMinimal}, {edns, keyEDNS}} {
		if b.on {
			f |= b.bit
		}
	}
	return f
}

// appendKey appends the cache key of a lower-case wire name.
func appendKey(dst, wireName []byte, qtype uint16, flags uint8) []byte {
	dst = append(dst, wireName...)
	return append(dst, byte(qtype>>8), byte(qtype), flags)
}

// slowKey builds the cache key from a presentation name.
func slowKey(qname string, q query, edns bool) (string, bool) {
	var buf [256]byte
	n, err := dns.PackDomainName(qname, buf[:], 0, nil, false)
	if err != nil {
		return "", false
	}
	lowerWire(buf[:n])
	return string(appendKey(nil, buf[:n], q.qtype, keyFlags(q, edns))), true
}

// lowerWire lower-cases the ASCII letters of an uncompressed wire name.
func lowerWire(name []byte) {
	for i := 0; i < len(name) && name[i] != 0; {
		l := int(name[i])
		for j := i + 1; j <= i+l && j < len(name); j++ {
			if c := name[j]; c >= 'A' && c <= 'Z' {
				name[j] = c + 'a' - 'A'
			}
		}
		i += l + 1
	}
}

func newAnswerCache(b *cacheBudget) *answerCache {
	return &answerCache{budget: b}
}

// drop gives the cache's entries back to the budget; the cache is no
// longer used (a racing put may still store into it, uncounted).
func (c *answerCache) drop() {
	if n := c.n.Swap(dropped); n > 0 {
		c.budget.n.Add(-n)
	}
}

// len returns the number of entries counted in c (0 once dropped).
func (c *answerCache) len() int64 { return max(c.n.Load(), 0) }

// get returns the answer cached under key; key may point into a scratch
// buffer since it is not kept.
func (c *answerCache) get(key string) ([]byte, bool) {
	return tableGet(c.tab.Load(), key, slotHash(key))
}

// tableGet looks key (of hash h) up in the table tab (nil: empty).
func tableGet(tab *cacheSlot, key string, h uint64) ([]byte, bool) {
	if tab == nil {
		return nil, false
	}
	mask := tab.hash.Load()
	for i := h & mask; ; i = (i + 1) & mask {
		sl := slotAt(tab, i)
		switch sl.hash.Load() {
		case 0:
			return nil, false
		case h:
			p := sl.data.Load()
			head := unsafe.Slice(p, entryHead)
			klen, n := int(head[0])<<8|int(head[1]), int(head[2])<<8|int(head[3])
			if klen == len(key) {
				data := unsafe.Slice(p, entryHead+klen+n)
				if unsafe.String(&data[entryHead], klen) == key {
					return data[entryHead+klen:], true
				}
			}
		}
	}
}

// slotAt returns entry i of the table tab (its slot i+1: slot 0 is the
// header).
func slotAt(tab *cacheSlot, i uint64) *cacheSlot {
	return (*cacheSlot)(unsafe.Add(unsafe.Pointer(tab), uintptr(i+1)*unsafe.Sizeof(cacheSlot{})))
}

// slotHash hashes a key, never to 0 (the mark of an empty slot).
func slotHash(key string) uint64 { return maphash.String(nameSeed, key) | 1 }

func (c *answerCache) put(key string, wire []byte) {
	if limit := c.budget.max.Load(); limit <= 0 || c.budget.n.Load() >= limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Checked again under the lock: caches of other zones may have taken
	// the room meanwhile (they can overshoot the bound by one entry each
	// of the loops putting at once, no more).
	if limit := c.budget.max.Load(); c.budget.n.Load() >= limit || c.n.Load() < 0 {
		return
	}
	if _, ok := c.get(key); ok {
		return
	}
	tab := c.tab.Load()
	if tab == nil || 4*(c.used+1) > 3*int(tab.hash.Load()+1) {
		tab = c.grow()
	}
	if len(key) > 0xffff || len(wire) > 0xffff {
		return
	}
	data := make([]byte, entryHead+len(key)+len(wire))
	data[0], data[1], data[2], data[3] = byte(len(key)>>8), byte(len(key)), byte(len(wire)>>8), byte(len(wire))
	copy(data[entryHead:], key)
	copy(data[entryHead+len(key):], wire)
	fillSlot(tab, slotHash(key), &data[0])
	c.used++
	if c.n.Add(1) > 0 {
		c.budget.n.Add(1)
	}
}

// grow replaces the table (none yet: 8 entries) by one twice its size,
// filled before it is published, and returns it. A table never changes
// size: readers holding an older one (or an older hint) read a smaller,
// still valid table.
func (c *answerCache) grow() *cacheSlot {
	old, size := c.tab.Load(), uint64(8)
	var oldLen uint64
	if old != nil {
		oldLen = old.hash.Load() + 1
		size = 2 * oldLen
	}
	table := make([]cacheSlot, 1+size)
	tab := &table[0]
	tab.hash.Store(size - 1)
	used := 0
	for i := range oldLen {
		if sl := slotAt(old, i); sl.hash.Load() != 0 {
			fillSlot(tab, sl.hash.Load(), sl.data.Load())
			used++
		}
	}
	c.tab.Store(tab)
	c.used = used
	return tab
}

// fillSlot fills the first free slot of the hash's probe sequence: data
// first, the hash last (readers look at the hash first).
func fillSlot(tab *cacheSlot, h uint64, data *byte) {
	mask := tab.hash.Load()
	i := h & mask
	for slotAt(tab, i).hash.Load() != 0 {
		i = (i + 1) & mask
	}
	sl := slotAt(tab, i)
	sl.data.Store(data)
	sl.hash.Store(h)
}

// packCanonical packs m with ID 0 and the lower-case question name: the
// form kept in the cache and patched for each client.
func packCanonical(m *dns.Msg, qname string) ([]byte, error) {
	return packAs(m, qname, true)
}

// packAs packs m as the cache keeps it, with or without name compression.
func packAs(m *dns.Msg, qname string, compress bool) ([]byte, error) {
	c := *m
	c.Id = 0
	c.CheckingDisabled = false
	c.Compress = compress
	q := m.Question[0]
	q.Name = qname
	c.Question = []dns.Question{q}
	return c.Pack()
}

// patchID gives the answer in out the ID and the CD bit of a query.
func patchID(out []byte, id uint16, cd bool) []byte {
	out[0], out[1] = byte(id>>8), byte(id)
	if cd {
		out[3] |= 0x10
	}
	return out
}

// patch copies a canonical answer into buf and gives it the ID, the CD bit
// and the question spelling of r.
func patch(wire []byte, r *dns.Msg, buf []byte) []byte {
	out := append(buf[:0], wire...)
	out[0], out[1] = byte(r.Id>>8), byte(r.Id)
	if r.CheckingDisabled {
		out[3] |= 0x10
	}
	name := r.Question[0].Name
	if lower(name) != name {
		_, _ = dns.PackDomainName(name, out, 12, nil, false)
	}
	return out
}
