package dnsserver

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// answerCache keeps packed answers from one zone for one Server. The
// zone's data never changes under it: Apply gives a changed zone a new,
// empty cache (see servedZone), so an entry never goes stale. Only names
// that exist in the zone are cached, and all the caches of a Server stop
// growing at one shared bound, so random names cannot evict anything.
type answerCache struct {
	m      sync.Map // key string -> packed answer []byte
	n      atomic.Int64
	budget *cacheBudget
}

// cacheBudget is the bound that all the zone caches of a Server share.
type cacheBudget struct {
	n   atomic.Int64
	max int64
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
// buffer since Load does not keep it.
func (c *answerCache) get(key string) ([]byte, bool) {
	if c.budget.max <= 0 {
		return nil, false
	}
	v, ok := c.m.Load(key)
	if !ok {
		return nil, false
	}
	return v.([]byte), true
}

func (c *answerCache) put(key string, wire []byte) {
	if c.budget.max <= 0 || c.budget.n.Load() >= c.budget.max || c.n.Load() < 0 {
		return
	}
	if _, loaded := c.m.LoadOrStore(key, wire); !loaded && c.n.Add(1) > 0 {
		c.budget.n.Add(1)
	}
}

// packCanonical packs m with ID 0 and the lower-case question name: the
// form kept in the cache and patched for each client.
func packCanonical(m *dns.Msg, qname string) ([]byte, error) {
	c := *m
	c.Id = 0
	c.CheckingDisabled = false
	c.Compress = true
	q := m.Question[0]
	q.Name = qname
	c.Question = []dns.Question{q}
	return c.Pack()
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
