package dnsserver

import (
	"sort"

	"github.com/miekg/dns"
)

// snapshot is an immutable set of served zones. Apply builds a new one
// and swaps it in; queries keep using the one they loaded.
type snapshot struct {
	zones map[string]*zoneIndex
	cache *answerCache
}

func newSnapshot(zones map[string]*zoneIndex, cacheEntries int) *snapshot {
	return &snapshot{zones: zones, cache: newAnswerCache(cacheEntries)}
}

// find returns the most specific zone holding qname (lower-case). A DS
// record belongs to the parent side of a cut, so for DS at the apex of a
// hosted zone the enclosing hosted zone answers when there is one, as in
// BIND.
func (s *snapshot) find(qname string, qtype uint16) *zoneIndex {
	if len(s.zones) == 0 {
		return nil
	}
	var exact *zoneIndex
	name := qname
	for {
		if ix, ok := s.zones[name]; ok {
			if qtype != dns.TypeDS || name != qname {
				return ix
			}
			exact = ix
		}
		p, ok := parentName(name)
		if !ok {
			return exact
		}
		name = p
	}
}

// origins lists the served origins in sorted order.
func (s *snapshot) origins() []string {
	out := make([]string, 0, len(s.zones))
	for o := range s.zones {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}
