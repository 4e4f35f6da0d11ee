package dnsserver

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Response rate limiting (RRL) keeps the server from being a free
// amplifier for spoofed UDP traffic. Answers over UDP are accounted per
// client prefix (/24 IPv4, /56 IPv6 by default) and response: the same
// answer (name and type), NXDOMAIN by zone, NODATA by name, a referral or
// a wildcard answer by zone, an error by zone. Random-subdomain floods
// thus share their zone's bucket. A bucket earns ResponsesPerSecond
// credits a second (at most that many saved up) and spends one per
// answer; below zero answers are limited, and the debt is capped at
// Window seconds of credit, so a source must stay quiet for up to
// Window seconds before it is answered again. Every Slip-th limited
// answer goes out truncated (TC=1, question only) so a real resolver
// behind a spoofed address retries over TCP; the others are dropped.
// TCP, clients that present a valid server cookie and exempt prefixes
// are never limited.
//
// The table is fixed in size (TableSize buckets, 32 bytes each, in 64
// shards of 4-way sets): when all buckets of a set are in use, the one
// seen longest ago is recycled. Memory does not grow with the flood; a
// flood spread over more active prefixes and zones than the table holds
// recycles buckets that were limiting, so some of it is answered.

// RRLOptions configures response rate limiting; nil in Options turns it
// off.
type RRLOptions struct {
	ResponsesPerSecond int            // credits per second per bucket; 20 when 0
	Slip               int            // every Slip-th limited answer is truncated; 0 drops them all
	Window             int            // seconds of debt a flood can run up; 15 when 0
	IPv4Prefix         int            // 24 when 0
	IPv6Prefix         int            // 56 when 0
	Exempt             []netip.Prefix // never limited
	LogOnly            bool           // count and log, but answer
	TableSize          int            // buckets; 65536 when 0
}

// Response classes RRL accounts separately.
const (
	rrlAnswer byte = iota + 1
	rrlWildcard
	rrlNXDomain
	rrlNoData
	rrlReferral
	rrlError
)

type rrlAction uint8

const (
	rrlSend rrlAction = iota
	rrlDrop
	rrlSlip
)

const (
	rrlShards = 64
	rrlWays   = 4
)

// rrlEntry is one bucket.
type rrlEntry struct {
	key     uint64 // 0: free
	last    int64  // second of the last answer
	balance int32
	limited uint32 // limited answers in a row (for slip); 0: not limiting
	_       uint64 // pad to 32 bytes
}

type rrlShard struct {
	mu      sync.Mutex
	entries []rrlEntry
	_       [40]byte // keep shards' locks on separate cache lines
}

// rrl is the table and counters of one Server.
type rrl struct {
	opt    RRLOptions
	seed   maphash.Seed
	shards [rrlShards]rrlShard
	sets   uint64 // sets per shard

	limited, slipped, dropped atomic.Uint64

	// logf reports a bucket that starts being limited (nil: no log).
	logf func(prefix netip.Prefix, class byte, name string)
}

func newRRL(opt RRLOptions) *rrl {
	if opt.ResponsesPerSecond <= 0 {
		opt.ResponsesPerSecond = 20
	}
	if opt.Window <= 0 {
		opt.Window = 15
	}
	if opt.IPv4Prefix <= 0 || opt.IPv4Prefix > 32 {
		opt.IPv4Prefix = 24
	}
	if opt.IPv6Prefix <= 0 || opt.IPv6Prefix > 128 {
		opt.IPv6Prefix = 56
	}
	if opt.Slip < 0 {
		opt.Slip = 0
	}
	if opt.TableSize <= 0 {
		opt.TableSize = 65536
	}
	t := &rrl{opt: opt, seed: maphash.MakeSeed()}
	t.sets = uint64(max(1, opt.TableSize/(rrlShards*rrlWays)))
	for i := range t.shards {
		t.shards[i].entries = make([]rrlEntry, t.sets*rrlWays)
	}
	return t
}

// capacity is the number of buckets the table holds.
func (t *rrl) capacity() int { return int(t.sets) * rrlShards * rrlWays }

// exempt reports a client that is never limited.
func (t *rrl) exempt(ip netip.Addr) bool {
	for _, p := range t.opt.Exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// prefix is the client prefix ip is accounted under.
func (t *rrl) prefix(ip netip.Addr) netip.Prefix {
	bits := t.opt.IPv6Prefix
	if ip.Is4() {
		bits = t.opt.IPv4Prefix
	}
	p, _ := ip.Prefix(bits)
	return p
}

// key hashes a bucket's identity; scratch is reused.
func (t *rrl) key(p netip.Prefix, class byte, qtype uint16, name []byte, scratch []byte) (uint64, []byte) {
	b := p.Addr().As16()
	scratch = append(scratch[:0], b[:]...)
	scratch = append(scratch, byte(p.Bits()), class, byte(qtype>>8), byte(qtype))
	scratch = append(scratch, name...)
	k := maphash.Bytes(t.seed, scratch)
	if k == 0 {
		k = 1
	}
	return k, scratch
}

// check accounts one answer at second now and says what to do with it.
func (t *rrl) check(now int64, key uint64) (act rrlAction, first bool) {
	sh := &t.shards[key%rrlShards]
	set := (key / rrlShards) % t.sets
	rate, window := int64(t.opt.ResponsesPerSecond), int64(t.opt.Window)
	sh.mu.Lock()
	ways := sh.entries[set*rrlWays : set*rrlWays+rrlWays]
	var e *rrlEntry
	for i := range ways {
		if ways[i].key == key {
			e = &ways[i]
			break
		}
	}
	if e == nil { // recycle the bucket seen longest ago (a free one has last 0)
		e = &ways[0]
		for i := 1; i < len(ways); i++ {
			if ways[i].last < e.last {
				e = &ways[i]
			}
		}
		*e = rrlEntry{key: key, last: now, balance: int32(rate)}
	}
	bal := int64(e.balance) + (now-e.last)*rate
	e.last = now
	bal = min(bal, rate) - 1
	bal = max(bal, -rate*window)
	e.balance = int32(bal)
	if bal >= 0 {
		e.limited = 0
		sh.mu.Unlock()
		return rrlSend, false
	}
	e.limited++
	n := e.limited
	sh.mu.Unlock()
	first = n == 1
	t.limited.Add(1)
	if t.opt.LogOnly {
		return rrlSend, first
	}
	if t.opt.Slip > 0 && n%uint32(t.opt.Slip) == 0 {
		t.slipped.Add(1)
		return rrlSlip, first
	}
	t.dropped.Add(1)
	return rrlDrop, first
}

// RRLStats are the rate limiter's counters since the server started.
type RRLStats struct {
	Limited uint64 // answers over the rate (in log-only mode: answered anyway)
	Slipped uint64 // sent truncated instead
	Dropped uint64 // not sent
	Buckets int    // table capacity
}

// RRLStats returns the counters; ok is false when RRL is off.
func (s *Server) RRLStats() (st RRLStats, ok bool) {
	if s.rrl == nil {
		return st, false
	}
	return RRLStats{
		Limited: s.rrl.limited.Load(),
		Slipped: s.rrl.slipped.Load(),
		Dropped: s.rrl.dropped.Load(),
		Buckets: s.rrl.capacity(),
	}, true
}

// replyInfo is what the answer path tells RRL about a reply.
type replyInfo struct {
	zone   string // origin of the zone answering ("" when none or unknown)
	exists bool   // the query name exists in that zone
	// counter is the answering zone's query counter when the fast path
	// knows it (zonestats.go), so the answer need not be read again.
	counter *zoneCounter
}

// rrlClass classifies the reply out and returns the class and the name it
// is accounted under: the query name (qname, lower-case wire form) or the
// zone name.
func rrlClass(out []byte, info *replyInfo, qname []byte, zone []byte) (byte, []byte) {
	rcode := out[3] & 0x0f
	an := binary.BigEndian.Uint16(out[6:])
	aa := out[2]&0x04 != 0
	switch {
	case rcode == 3:
		return rrlNXDomain, zone
	case rcode != 0:
		return rrlError, zone
	case an > 0 && info.exists:
		return rrlAnswer, qname
	case an > 0:
		return rrlWildcard, zone
	case aa && info.exists:
		return rrlNoData, qname
	case aa:
		return rrlNoData, zone
	}
	return rrlReferral, zone
}

// slipReply turns query pkt into a truncated empty reply (TC=1, the
// question only) in out; false when the question cannot be read.
func slipReply(pkt, out, scratch []byte) ([]byte, bool) {
	if len(pkt) < 12 || binary.BigEndian.Uint16(pkt[4:]) != 1 {
		return nil, false
	}
	_, off, ok := readName(pkt, 12, scratch[:0])
	if !ok || off+4 > len(pkt) {
		return nil, false
	}
	out = append(out[:0], pkt[:off+4]...)
	out[2] = out[2]&0x79 | 0x80 | 0x02 // QR, TC; opcode and RD kept, AA cleared
	out[3] &= 0x10                     // CD kept, RA and rcode cleared
	binary.BigEndian.PutUint16(out[6:], 0)
	binary.BigEndian.PutUint16(out[8:], 0)
	binary.BigEndian.PutUint16(out[10:], 0)
	return out, true
}

// logLimited reports a bucket that starts being limited: at info level in
// log-only mode (where the log is the point), at debug level otherwise.
func (s *Server) logLimited(p netip.Prefix, class byte, zone string) {
	names := [...]string{rrlAnswer: "answer", rrlWildcard: "wildcard", rrlNXDomain: "nxdomain", rrlNoData: "nodata", rrlReferral: "referral", rrlError: "error"}
	if s.rrl.opt.LogOnly {
		s.log.Info("rrl: would limit responses", "client", p.String(), "class", names[class], "zone", zone)
		return
	}
	s.log.Debug("rrl: limiting responses", "client", p.String(), "class", names[class], "zone", zone)
}
