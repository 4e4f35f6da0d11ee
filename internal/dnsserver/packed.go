package dnsserver

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/miekg/dns"
)

// packedZone is the compact form a zone is kept in while it is served:
// its records in wire format, one after the other, in the order Apply was
// given them (owner names are lower-case already: Zone records are
// canonical), names compressed within the zone as in a message. That is about the size of the zone on the wire,
// a fraction of what miekg/dns structures, their strings and the lookup
// index take. The index (zoneIndex) is decoded from it when a query needs
// one and kept for a bounded number of zones (see decodedZones), so the
// zones that are queried stay fast and the others cost their wire bytes.
//
// A packedZone is immutable once made and shared: every Server of the
// process that serves the same origin with the same content hash holds
// the same *packedZone (see sharedZones), and so the same decoded index.
type packedZone struct {
	origin string // canonical, "example.com."
	hash   string
	wire   []byte
	count  int // records in wire
	// names holds a hash of every name that exists in the zone (owners
	// and the empty non-terminals above them, as the index has nodes),
	// sorted: what answers for names that do not exist need without
	// decoding the zone (see closestEncloser in template.go).
	names []uint64
	// signed is set when the zone holds RRSIG, NSEC or NSEC3 records,
	// whose denial proofs depend on the query name.
	signed bool
	// plain is set when the zone is unsigned and has no DNAME and no NS
	// below its apex: answers for its names may come straight from wire
	// (packedanswer.go).
	plain bool

	// ix is the decoded index, nil while the zone is not decoded; ref
	// is set by each use and cleared by the decoded ring's clock hand.
	ix  atomic.Pointer[zoneIndex]
	ref atomic.Bool
}

// errNoSOA is returned for a zone that cannot be served.
var errNoSOA = errors.New("no SOA at the apex")

// packZone packs z's records. It refuses what could not be served: a
// zone without an SOA at its apex or a record that cannot be packed.
func packZone(z *Zone) (*packedZone, error) {
	origin := canonicalOrigin(z.Origin)
	size := 0
	for _, rr := range z.RRs {
		size += dns.Len(rr)
	}
	p := &packedZone{origin: origin, hash: z.Hash, wire: make([]byte, size), count: len(z.RRs)}
	off, soa, notPlain := 0, false, false
	names := map[uint64]bool{nameHash(origin): true}
	// Names are compressed within the zone, as in a message: the owner
	// names, mostly the origin with a label or two in front, shrink to a
	// label and a pointer. UnpackRR follows the pointers back into wire.
	compression := map[string]int{}
	for _, rr := range z.RRs {
		h := rr.Header()
		if h.Rrtype == dns.TypeSOA && h.Class == dns.ClassINET && canon(h.Name) == origin {
			soa = true
		}
		switch h.Rrtype {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			p.signed = true
		case dns.TypeDNAME:
			notPlain = true
		case dns.TypeNS:
			notPlain = notPlain || canon(h.Name) != origin
		}
		end, err := dns.PackRR(rr, p.wire, off, compression, true)
		if err != nil {
			return nil, fmt.Errorf("dnsserver: pack %s: %s record: %w", origin, dns.Type(h.Rrtype), err)
		}
		// The name as the index will have it: decoded from the wire.
		owner, _, err := dns.UnpackDomainName(p.wire, off)
		if err != nil {
			return nil, fmt.Errorf("dnsserver: pack %s: owner %s: %w", origin, h.Name, err)
		}
		if name := canon(owner); isBelow(name, origin) && h.Class == dns.ClassINET && !isNSEC3Data(rr) {
			for ; name != origin; name, _ = parentName(name) {
				names[nameHash(name)] = true
			}
		}
		off = end
	}
	if !soa {
		return nil, fmt.Errorf("dnsserver: index %s: %w", origin, errNoSOA)
	}
	p.plain = !p.signed && !notPlain
	p.wire = slices.Clone(p.wire[:off]) // compression left room at the end
	p.names = make([]uint64, 0, len(names))
	for h := range names {
		p.names = append(p.names, h)
	}
	slices.Sort(p.names)
	return p, nil
}

// records decodes the zone's records, in the order they were given.
func (p *packedZone) records() ([]dns.RR, error) {
	rrs := make([]dns.RR, 0, p.count)
	for off := 0; off < len(p.wire); {
		rr, next, err := dns.UnpackRR(p.wire, off)
		if err != nil {
			return nil, fmt.Errorf("dnsserver: decode %s: %w", p.origin, err)
		}
		rrs = append(rrs, rr)
		off = next
	}
	return rrs, nil
}

// zone returns the zone as it was applied (records decoded again).
func (p *packedZone) zone() (*Zone, error) {
	rrs, err := p.records()
	if err != nil {
		return nil, err
	}
	return &Zone{Origin: p.origin, Hash: p.hash, RRs: rrs}, nil
}

// index returns the decoded index of the zone, decoding it when it is not
// held. It returns nil only if the packed records do not decode, which
// packZone rules out.
func (p *packedZone) index() *zoneIndex {
	if ix := p.ix.Load(); ix != nil {
		if !p.ref.Load() {
			p.ref.Store(true)
		}
		return ix
	}
	decodes.Add(1)
	z, err := p.zone()
	if err != nil {
		return nil
	}
	ix, err := buildIndex(z)
	if err != nil {
		return nil
	}
	ix.packed = p
	if !p.ix.CompareAndSwap(nil, ix) {
		return p.ix.Load()
	}
	decoded.hold(p)
	return ix
}

// decodes counts the zones decoded since the process started.
var decodes atomic.Int64

// decodedZones bounds how many zones keep their decoded index, in the
// whole process. A DirectAdmin-shaped zone's index takes a few KiB, so
// the default costs a few MiB and keeps that many busy zones fast.
var decodedZones = 2048

// decodedRing holds the zones whose index is decoded. When it is full a
// clock hand evicts the first zone not used since the hand last passed
// it (a zone being queried keeps its index).
type decodedRing struct {
	mu   sync.Mutex
	ring []*packedZone
	hand int
}

var decoded decodedRing

func (d *decodedRing) hold(p *packedZone) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.ring) < decodedZones {
		d.ring = append(d.ring, p)
		return
	}
	for range 2 * len(d.ring) {
		v := d.ring[d.hand]
		if v != nil && v.ref.Load() && v.ix.Load() != nil {
			v.ref.Store(false)
			d.hand = (d.hand + 1) % len(d.ring)
			continue
		}
		break
	}
	if v := d.ring[d.hand]; v != nil {
		v.ix.Store(nil)
	}
	d.ring[d.hand] = p
	d.hand = (d.hand + 1) % len(d.ring)
}

// sharedZones maps origin and content hash to the packedZone that every
// Server in the process uses for them, so two builtin backends (or a
// restart's reload next to the running set) never hold a zone twice.
// Entries are weak: a packed zone lives while some snapshot holds it, and
// its entry goes with it.
var sharedZones = struct {
	mu sync.Mutex
	m  map[shareKey]weak.Pointer[packedZone]
}{m: map[shareKey]weak.Pointer[packedZone]{}}

// shareKey names a zone's content: origin and hash (the strings the
// packed zone holds anyway).
type shareKey struct{ origin, hash string }

// sharedZone returns the packed form of z, the one already in the process
// when a zone with the same origin and hash is served somewhere. Zones
// without a hash are packed on their own.
func sharedZone(z *Zone) (*packedZone, error) {
	if z.Hash == "" {
		return packZone(z)
	}
	key := shareKey{canonicalOrigin(z.Origin), z.Hash}
	sharedZones.mu.Lock()
	if w, ok := sharedZones.m[key]; ok {
		if p := w.Value(); p != nil {
			sharedZones.mu.Unlock()
			return p, nil
		}
	}
	sharedZones.mu.Unlock()
	p, err := packZone(z)
	if err != nil {
		return nil, err
	}
	sharedZones.mu.Lock()
	defer sharedZones.mu.Unlock()
	if w, ok := sharedZones.m[key]; ok {
		if q := w.Value(); q != nil {
			return q, nil // packed meanwhile by another Apply
		}
	}
	key = shareKey{p.origin, p.hash} // the packed zone's own strings
	sharedZones.m[key] = weak.Make(p)
	runtime.AddCleanup(p, func(key shareKey) {
		sharedZones.mu.Lock()
		defer sharedZones.mu.Unlock()
		if cur, ok := sharedZones.m[key]; ok && cur.Value() == nil {
			delete(sharedZones.m, key)
		}
	}, key)
	return p, nil
}
