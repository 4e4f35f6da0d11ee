package dnsserver

import (
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// answerCache keeps packed answers for one snapshot. A snapshot never
// changes, so an entry never goes stale; it dies with its snapshot. Only
// names that exist in a zone are cached, and the cache stops growing at
// its bound, so random names cannot evict anything.
type answerCache struct {
	m   sync.Map // key string -> packed answer []byte
	n   atomic.Int64
	max int64
}

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

func newAnswerCache(max int) *answerCache {
	return &answerCache{max: int64(max)}
}

// get returns the answer cached under key; key may point into a scratch
// buffer since Load does not keep it.
func (c *answerCache) get(key string) ([]byte, bool) {
	if c.max <= 0 {
		return nil, false
	}
	v, ok := c.m.Load(key)
	if !ok {
		return nil, false
	}
	return v.([]byte), true
}

func (c *answerCache) put(key string, wire []byte) {
	if c.max <= 0 || c.n.Load() >= c.max {
		return
	}
	if _, loaded := c.m.LoadOrStore(key, wire); !loaded {
		c.n.Add(1)
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
