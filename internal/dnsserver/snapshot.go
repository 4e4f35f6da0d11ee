package dnsserver

import (
	"sort"
	"sync/atomic"

	"github.com/miekg/dns"
)

// snapshot is an immutable set of served zones. Apply builds a new one
// and swaps it in; queries keep using the one they loaded.
type snapshot struct {
	zones *zoneSet
}

// servedZone is one zone of a snapshot: its packed form (shared by every
// Server of the process that serves the same content) and this server's
// cache of answers from it. Apply gives a zone a new servedZone, and so an
// empty cache, when its content changes, and when a zone below it is added
// or removed (a CNAME chain stops where another hosted zone begins, so the
// enclosing zones' answers may change); every other zone keeps its
// servedZone and its cached answers.
type servedZone struct {
	*packedZone
	// cache is inline: the query path finds the zone and then its cache
	// table without another pointer to follow.
	cache answerCache
	// counter is the zone's query counter (zonestats.go), found on the
	// first answer the fast path counts for it.
	counter atomic.Pointer[zoneCounter]
}

func newServedZone(p *packedZone, b *cacheBudget) *servedZone {
	return &servedZone{packedZone: p, cache: answerCache{budget: b}}
}

func newSnapshot(zones *zoneSet) *snapshot {
	return &snapshot{zones: zones.done()}
}

// find returns the most specific zone holding qname (lower-case). A DS
// record belongs to the parent side of a cut, so for DS at the apex of a
// hosted zone the enclosing hosted zone answers when there is one, as in
// BIND.
func (s *snapshot) find(qname string, qtype uint16) *servedZone {
	if sl := s.findSlot(qname, qtype); sl != nil {
		return sl.z
	}
	return nil
}

// findSlot is find returning the zone's slot in the table.
func (s *snapshot) findSlot(qname string, qtype uint16) *zoneSlot {
	var sh suffixHashes
	sh.hash(qname)
	return s.findHashed(&sh, qname, qtype)
}

// suffixHashes are the zone hashes of a name and its first parents,
// most specific first; when more, the name's suffix from offset rest on
// is the parent after the last one hashed. (An offset, not a string: a
// fastLookup holds both the name and this, and must not point into
// itself, which would move it to the heap.)
type suffixHashes struct {
	hs   [8]uint64
	n    int
	rest int
	more bool
}

// hash fills sh for qname. The suffixes are hashed first and then looked
// up: the table probes do not depend on each other, so their cache
// misses overlap.
func (sh *suffixHashes) hash(qname string) {
	n, name, more := 0, qname, true
	for ; n < len(sh.hs) && more; n++ {
		sh.hs[n] = zoneHash(name)
		name, more = parentName(name)
	}
	sh.n, sh.rest, sh.more = n, len(qname)-len(name), more
}

// findHashed is findSlot for qname, hashed into sh.
func (s *snapshot) findHashed(sh *suffixHashes, qname string, qtype uint16) *zoneSlot {
	if s.zones.len() == 0 {
		return nil
	}
	var exact *zoneSlot
	for i := range sh.n {
		if sl := s.zones.lookup(sh.hs[i]); sl != nil {
			if qtype != dns.TypeDS || i != 0 {
				return sl
			}
			exact = sl
		}
	}
	for name, more := qname[sh.rest:], sh.more; more; name, more = parentName(name) { // names of more than 8 labels
		if sl := s.zones.lookup(zoneHash(name)); sl != nil {
			return sl
		}
	}
	return exact
}

// touch loads the first slot hash h probes in the table (prefetch).
func (s *snapshot) touch(h uint64) uint64 {
	t := s.zones
	sh := &t.shards[h>>zoneShardShift]
	if sh.slots == nil {
		return 0
	}
	return sh.at(uint32(h) & sh.mask).hash
}

// origins lists the served origins in sorted order.
func (s *snapshot) origins() []string {
	out := make([]string, 0, s.zones.len())
	s.zones.each(func(o string, _ *servedZone) { out = append(out, o) })
	sort.Strings(out)
	return out
}
