package zone

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// zone checks the records the fast path read and builds the Zone, or
// returns nil when the general path would report anything (a problem or a
// warning) or drop a record: then it must read the zone. The checks are
// those of finish, made on the records in canonical order, where an RRset
// and an owner's records lie together:
//
//   - the records of an RRset have one TTL (else unifyTTLs warns);
//   - exact duplicates are dropped (dedup keeps the first; they are equal);
//   - one SOA, at the apex; an NS RRset at the apex (checkApex);
//   - no CNAME at the apex, one CNAME at most at a name, none beside other
//     data (checkCNAMEs; the fast path reads no DNSSEC types);
//   - no record hidden by a delegation (NS below the apex): dropOccluded
//     would drop it with a warning.
func (f *fastParser) zone(origin Name) *Zone {
	buf, keys := f.buf, f.keys
	at := func(s span) []byte { return buf[s.off:s.end] }
	idx := make([]int32, len(f.recs))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int {
		a, b := &f.recs[i], &f.recs[j]
		if sa, sb := a.typ == dns.TypeSOA, b.typ == dns.TypeSOA; sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(keys[a.key.off:a.key.end], keys[b.key.off:b.key.end]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		if c := bytes.Compare(at(a.data), at(b.data)); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	apex := f.apex
	keep := idx[:0]
	soas, apexNS, cuts := 0, 0, false
	for n, i := range idx {
		r := &f.recs[i]
		name := at(r.name)
		isApex := string(name) == apex
		if n > 0 {
			p := &f.recs[idx[n-1]]
			if bytes.Equal(at(p.name), name) {
				if p.typ == r.typ {
					if p.ttl != r.ttl {
						return nil
					}
					if bytes.Equal(at(p.data), at(r.data)) {
						continue // a duplicate
					}
				}
				if p.typ == dns.TypeCNAME || r.typ == dns.TypeCNAME {
					return nil // a second CNAME, or data beside one
				}
			}
		}
		switch r.typ {
		case dns.TypeSOA:
			if soas++; soas > 1 || !isApex {
				return nil
			}
		case dns.TypeNS:
			if isApex {
				apexNS++
			} else {
				cuts = true
			}
		case dns.TypeCNAME:
			if isApex {
				return nil
			}
		}
		keep = append(keep, i)
	}
	if soas != 1 || apexNS == 0 || cuts && !f.delegationsHideNothing(keep) {
		return nil
	}
	return f.build(origin, keep)
}

// delegationsHideNothing reports whether dropOccluded keeps every record
// of order: at and below a zone cut there are only the cut's NS records
// and glue (A and AAAA records of names the NS records of the apex or of
// a highest cut point at). The fast path reads no DS, NSEC or RRSIG.
func (f *fastParser) delegationsHideNothing(order []int32) bool {
	str := func(s span) string { return string(f.buf[s.off:s.end]) }
	c := &cuts{apex: f.apex, at: map[string]bool{}, targets: map[string]bool{}}
	for _, i := range order {
		if r := &f.recs[i]; r.typ == dns.TypeNS {
			if name := str(r.name); name != f.apex {
				c.at[name] = true
			}
		}
	}
	for _, i := range order {
		if r := &f.recs[i]; r.typ == dns.TypeNS {
			if name := str(r.name); name == f.apex || c.above(name) == name {
				c.targets[str(r.f[0])] = true
			}
		}
	}
	for _, i := range order {
		r := &f.recs[i]
		name := str(r.name)
		cut := c.above(name)
		switch {
		case cut == "":
		case (r.typ == dns.TypeA || r.typ == dns.TypeAAAA) && c.targets[name]:
		case r.typ == dns.TypeNS && name == cut:
		default:
			return false
		}
	}
	return true
}

// build writes the canonical text of the records in order and cuts every
// string of the zone (records' fields, RRs' names and strings) from it:
// one string for the whole zone, and the RRs allocated by type.
func (f *fastParser) build(origin Name, order []int32) *Zone {
	size, ntxt := 0, 0
	var counts [dns.TypeCAA + 1]int
	for _, i := range order {
		r := &f.recs[i]
		size += int(r.name.end-r.name.off) + int(r.data.end-r.data.off) + len(typeName(r.typ)) + 20
		ntxt += int(r.txt.end - r.txt.off)
		counts[r.typ]++
	}
	var b strings.Builder
	b.Grow(size)
	starts := make([]int32, len(order)+1)
	// Each line is hashed as it is written: hashing the text once built
	// would copy it.
	h := sha256.New()
	line := make([]byte, 0, 512)
	for n, i := range order {
		r := &f.recs[i]
		starts[n] = int32(b.Len())
		line = append(line[:0], f.buf[r.name.off:r.name.end]...)
		line = append(line, '\t')
		line = strconv.AppendUint(line, uint64(r.ttl), 10)
		line = append(line, "\tIN\t"...)
		line = append(line, typeName(r.typ)...)
		line = append(line, '\t')
		line = append(line, f.buf[r.data.off:r.data.end]...)
		line = append(line, '\n')
		b.Write(line)
		h.Write(line)
	}
	text := b.String()
	starts[len(order)] = int32(len(text))
	var sum [sha256.Size]byte
	z := &Zone{Name: origin, Records: make([]Record, len(order)), rrs: make([]dns.RR, len(order)), text: text,
		hash: hex.EncodeToString(h.Sum(sum[:0]))}
	a := rrAlloc{
		a: make([]dns.A, counts[dns.TypeA]), aaaa: make([]dns.AAAA, counts[dns.TypeAAAA]),
		ns: make([]dns.NS, counts[dns.TypeNS]), cname: make([]dns.CNAME, counts[dns.TypeCNAME]),
		ptr: make([]dns.PTR, counts[dns.TypePTR]), mx: make([]dns.MX, counts[dns.TypeMX]),
		srv: make([]dns.SRV, counts[dns.TypeSRV]), soa: make([]dns.SOA, counts[dns.TypeSOA]),
		txt: make([]dns.TXT, counts[dns.TypeTXT]), caa: make([]dns.CAA, counts[dns.TypeCAA]),
		ips:  make([]byte, 16*(counts[dns.TypeA]+counts[dns.TypeAAAA])),
		strs: make([]string, ntxt),
	}
	for n, i := range order {
		r := &f.recs[i]
		line := text[starts[n] : starts[n+1]-1]
		nameLen := int(r.name.end - r.name.off)
		dataLen := int(r.data.end - r.data.off)
		name, data := line[:nameLen], line[len(line)-dataLen:]
		// a field of the RDATA, from its offsets in the buffer
		field := func(s span) string { return data[s.off-r.data.off : s.end-r.data.off] }
		h := dns.RR_Header{Name: name, Rrtype: r.typ, Class: dns.ClassINET, Ttl: r.ttl}
		var rr dns.RR
		switch r.typ {
		case dns.TypeA:
			rr = put(&a.a, dns.A{Hdr: h, A: a.ip(r.ip)})
		case dns.TypeAAAA:
			rr = put(&a.aaaa, dns.AAAA{Hdr: h, AAAA: a.ip(r.ip)})
		case dns.TypeNS:
			rr = put(&a.ns, dns.NS{Hdr: h, Ns: field(r.f[0])})
		case dns.TypeCNAME:
			rr = put(&a.cname, dns.CNAME{Hdr: h, Target: field(r.f[0])})
		case dns.TypePTR:
			rr = put(&a.ptr, dns.PTR{Hdr: h, Ptr: field(r.f[0])})
		case dns.TypeMX:
			rr = put(&a.mx, dns.MX{Hdr: h, Preference: uint16(r.n[0]), Mx: field(r.f[0])})
		case dns.TypeSRV:
			rr = put(&a.srv, dns.SRV{Hdr: h, Priority: uint16(r.n[0]), Weight: uint16(r.n[1]), Port: uint16(r.n[2]), Target: field(r.f[0])})
		case dns.TypeSOA:
			rr = put(&a.soa, dns.SOA{Hdr: h, Ns: field(r.f[0]), Mbox: field(r.f[1]), Serial: r.n[0], Refresh: r.n[1], Retry: r.n[2],
				Expire: r.n[3], Minttl: r.n[4]})
			z.Serial = r.n[0]
		case dns.TypeTXT:
			t := a.strs[: r.txt.end-r.txt.off : r.txt.end-r.txt.off]
			a.strs = a.strs[len(t):]
			for j, s := range f.txts[r.txt.off:r.txt.end] {
				t[j] = field(s)
			}
			rr = put(&a.txt, dns.TXT{Hdr: h, Txt: t})
		case dns.TypeCAA:
			rr = put(&a.caa, dns.CAA{Hdr: h, Flag: uint8(r.n[0]), Tag: field(r.f[0]), Value: field(r.f[1])})
		}
		z.Records[n] = Record{Name: name, TTL: r.ttl, Type: typeName(r.typ), Data: data}
		z.rrs[n] = rr
	}
	return z
}

// put stores v in the first element of *s, takes that element off *s and
// returns its address.
func put[T any](s *[]T, v T) *T {
	x := &(*s)[0]
	*s = (*s)[1:]
	*x = v
	return x
}

// rrAlloc hands out the RRs of a zone from one array per type.
type rrAlloc struct {
	a     []dns.A
	aaaa  []dns.AAAA
	ns    []dns.NS
	cname []dns.CNAME
	ptr   []dns.PTR
	mx    []dns.MX
	srv   []dns.SRV
	soa   []dns.SOA
	txt   []dns.TXT
	caa   []dns.CAA
	ips   []byte
	strs  []string
}

// ip returns ip as a 16-byte net.IP, as the zone parser holds addresses.
func (a *rrAlloc) ip(ip [16]byte) net.IP {
	out := net.IP(a.ips[:16:16])
	a.ips = a.ips[16:]
	copy(out, ip[:])
	return out
}
