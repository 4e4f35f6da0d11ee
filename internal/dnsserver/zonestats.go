package dnsserver

import (
	"container/heap"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/miekg/dns"
)

// Per-zone query counts: one pair of atomic counters (answers sent,
// NXDOMAIN answers) per served zone, in a table keyed by the zone's
// origin in lower-case wire form. The table holds exactly the zones
// served: Apply adds a zone's entry when it is first served and removes
// it when the zone is removed, so its size is fixed by the zones, never
// by what clients ask (a name outside every zone counts in one shared
// "unmatched" counter). A query finds its zone by looking its name and
// then each parent up in the table (one map lookup per label, no
// allocation). Counts are exact for every answer sent since the zone was
// first served by this process; they survive content changes of the zone
// and end with its removal or the process. The top lists are computed
// when read, from a copy of the counters: reading changes nothing.

// zoneCounter counts one zone's answers.
type zoneCounter struct {
	origin   string
	queries  atomic.Uint64
	nxdomain atomic.Uint64
}

// zoneStats is the table of one Server.
type zoneStats struct {
	mu        sync.Mutex                           // serializes apply
	table     atomic.Pointer[cowMap[*zoneCounter]] // by origin in wire form
	unmatched zoneCounter                          // answers to names in no served zone, or without a question
}

func newZoneStats() *zoneStats {
	z := &zoneStats{}
	z.table.Store((&cowMap[*zoneCounter]{}).done())
	return z
}

// apply adds the origins in set that have no counter yet and drops those
// in remove (canonical origins). The shards it changes are copied
// (cowMap), so queries reading the old table are not disturbed.
func (z *zoneStats) apply(set []*Zone, remove []string) {
	if z == nil || (len(set) == 0 && len(remove) == 0) {
		return
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	old := z.table.Load()
	var buf [256]byte
	if len(remove) == 0 && !z.missing(old, set, buf[:]) {
		return // new versions of zones counted already: nothing to copy
	}
	m := old.edit() // copies only the shards it changes
	for _, o := range remove {
		if k, ok := wireKey(o, buf[:]); ok {
			m.del(k)
		}
	}
	for _, zn := range set {
		o := canonicalOrigin(zn.Origin)
		k, ok := wireKey(o, buf[:])
		if !ok {
			continue
		}
		if !m.has(k) {
			m.set(k, &zoneCounter{origin: o})
		}
	}
	z.table.Store(m.done())
}

// missing reports an origin in set without a counter in m.
func (z *zoneStats) missing(m *cowMap[*zoneCounter], set []*Zone, buf []byte) bool {
	for _, zn := range set {
		if k, ok := wireKey(canonicalOrigin(zn.Origin), buf); ok && !m.has(k) {
			return true
		}
	}
	return false
}

// wireKey is the lower-case wire form of a canonical origin.
func wireKey(origin string, buf []byte) (string, bool) {
	n, err := dns.PackDomainName(origin, buf, 0, nil, false)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

// count counts the packed reply: its question names the zone, its rcode
// tells NXDOMAIN. scratch is space for the lower-cased name, returned for
// reuse.
func (z *zoneStats) count(reply, scratch []byte) []byte {
	if z == nil || len(reply) < 12 {
		return scratch
	}
	c := &z.unmatched
	if reply[4] != 0 || reply[5] != 0 { // a question
		name, _, ok := readName(reply, 12, scratch[:0])
		scratch = name
		if ok {
			m := z.table.Load()
			for off := 0; off < len(name); off += 1 + int(name[off]) {
				if zc := m.get(unsafe.String(unsafe.SliceData(name[off:]), len(name)-off)); zc != nil {
					c = zc
					break
				}
			}
		}
	}
	c.queries.Add(1)
	if reply[3]&0x0f == dns.RcodeNameError {
		c.nxdomain.Add(1)
	}
	return scratch
}

// size is the number of counters kept (one per served zone).
func (z *zoneStats) size() int { return z.table.Load().len() }

// ZoneQueries is one zone's counts.
type ZoneQueries struct {
	Zone     string `json:"zone"`
	Queries  uint64 `json:"queries"`
	NXDomain uint64 `json:"nxdomain"`
	// NXDomainShare is NXDomain / Queries (0 without queries).
	NXDomainShare float64 `json:"nxdomain_share"`
}

// ZoneTraffic is the per-zone view of the answers sent.
type ZoneTraffic struct {
	// Zones is how many zones are counted (every served zone).
	Zones int `json:"zones"`
	// Queries and NXDomain sum the answers over every counted zone.
	Queries  uint64 `json:"queries"`
	NXDomain uint64 `json:"nxdomain"`
	// Unmatched counts answers to names in no served zone (REFUSED) and
	// to queries without a question.
	Unmatched uint64 `json:"unmatched"`
	// Top lists the zones with the most answers, TopNXDomain those with
	// the most NXDOMAIN answers (a random-subdomain flood shows here),
	// most first, ties by name; zones without answers are left out.
	Top         []ZoneQueries `json:"top"`
	TopNXDomain []ZoneQueries `json:"top_nxdomain"`
}

// DefaultTopZones is how many zones ZoneTraffic lists when asked for 0.
const DefaultTopZones = 20

// ZoneTraffic returns the per-zone counts: the totals and the top zones
// (DefaultTopZones when top <= 0). ok is false when the server does not
// count (Options.ZoneCounts off). It costs one pass over the counters
// (about a millisecond per 100,000 zones) and changes nothing.
func (s *Server) ZoneTraffic(top int) (ZoneTraffic, bool) {
	z := s.zstats
	if z == nil {
		return ZoneTraffic{}, false
	}
	if top <= 0 {
		top = DefaultTopZones
	}
	m := z.table.Load()
	out := ZoneTraffic{Zones: m.len(), Unmatched: z.unmatched.queries.Load()}
	byQ := &topHeap{less: func(a, b ZoneQueries) bool { return a.Queries < b.Queries || a.Queries == b.Queries && a.Zone > b.Zone }}
	byNX := &topHeap{less: func(a, b ZoneQueries) bool {
		return a.NXDomain < b.NXDomain || a.NXDomain == b.NXDomain && a.Zone > b.Zone
	}}
	m.each(func(_ string, c *zoneCounter) {
		q := ZoneQueries{Zone: c.origin, Queries: c.queries.Load(), NXDomain: c.nxdomain.Load()}
		out.Queries += q.Queries
		out.NXDomain += q.NXDomain
		if q.Queries > 0 {
			byQ.offer(q, top)
		}
		if q.NXDomain > 0 {
			byNX.offer(q, top)
		}
	})
	out.Top, out.TopNXDomain = byQ.sorted(), byNX.sorted()
	return out, true
}

// topHeap keeps the k largest entries seen: a min-heap by less.
type topHeap struct {
	items []ZoneQueries
	less  func(a, b ZoneQueries) bool
}

func (h *topHeap) Len() int           { return len(h.items) }
func (h *topHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *topHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topHeap) Push(x any)         { h.items = append(h.items, x.(ZoneQueries)) }
func (h *topHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

func (h *topHeap) offer(q ZoneQueries, k int) {
	if len(h.items) < k {
		heap.Push(h, q)
		return
	}
	if h.less(h.items[0], q) {
		h.items[0] = q
		heap.Fix(h, 0)
	}
}

// sorted empties the heap, largest first, with the shares filled in.
func (h *topHeap) sorted() []ZoneQueries {
	out := make([]ZoneQueries, len(h.items))
	for i := len(out) - 1; i >= 0; i-- {
		q := heap.Pop(h).(ZoneQueries)
		if q.Queries > 0 {
			q.NXDomainShare = float64(q.NXDomain) / float64(q.Queries)
		}
		out[i] = q
	}
	return out
}
