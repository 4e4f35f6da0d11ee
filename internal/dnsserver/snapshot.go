package dnsserver

import (
	"sort"

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
	cache *answerCache
}

func newSnapshot(zones *zoneSet) *snapshot {
	return &snapshot{zones: zones.done()}
}

// find returns the most specific zone holding qname (lower-case). A DS
// record belongs to the parent side of a cut, so for DS at the apex of a
// hosted zone the enclosing hosted zone answers when there is one, as in
// BIND.
func (s *snapshot) find(qname string, qtype uint16) *servedZone {
	if s.zones.len() == 0 {
		return nil
	}
	var exact *servedZone
	name := qname
	for {
		if z := s.zones.get(name); z != nil {
			if qtype != dns.TypeDS || name != qname {
				return z
			}
			exact = z
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
	out := make([]string, 0, s.zones.len())
	s.zones.each(func(o string, _ *servedZone) { out = append(out, o) })
	sort.Strings(out)
	return out
}
