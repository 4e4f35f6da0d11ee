package zone

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"

	"github.com/miekg/dns"
)

// The fast path reads the zones DirectAdmin writes (and dadns's own
// canonical text) without miekg/dns's zone parser: owner, optional TTL and
// class IN, and one of the types below in its plain form, with $TTL and
// absolute $ORIGIN lines. It builds each record and its canonical text
// directly from the scanned words. Anything it is not sure of (another
// type or directive, an escape, a glued or odd word, a name byte outside
// letters, digits, '-', '_', a record without TTL, any warning or problem)
// makes it give up on the whole zone, which Parse then reads the general
// way: so refusals, warnings and their lines are always the general path's.
// TestFastPathSameZone compares both paths on every sample zone, the
// DirectAdmin capture and generated zones; FuzzFastPath on anything.

// fastRec is one record read by the fast path, its strings still offsets
// into the buffer that all records' text is written to.
type fastRec struct {
	line int
	typ  uint16
	ttl  uint32
	name span // owner, absolute, lower-case
	data span // presentation RDATA as the record prints it
	f    [2]span
	n    [5]uint32
	ip   net.IP
	txt  []span // TXT strings (inside the quotes)
}

// span is text[off:end] of the fast path's buffer.
type span struct{ off, end int32 }

func (s span) of(all string) string { return all[s.off:s.end] }

// fastParser is the state of one fast read.
type fastParser struct {
	src    string // the input, as the scanner's words are cut from it
	apex   string // origin FQDN
	origin string // current $ORIGIN
	buf    []byte
	recs   []fastRec
	txts   []span // backing store of the TXT spans
	owner  span   // the last owner, for lines that start blank
	hasOwn bool
	def    uint32
	defOK  bool
}

// parseFast returns the zone Parse would return, or nil when it cannot
// tell (the general path then reads the zone).
func parseFast(origin Name, text []byte, max int) *Zone {
	if bytes.IndexByte(text, '\\') >= 0 {
		return nil
	}
	src := string(text)
	entries, over := scanString(src, max)
	if over || len(entries) == 0 {
		return nil
	}
	apex := origin.FQDN()
	f := &fastParser{src: src, apex: apex, origin: apex, buf: make([]byte, 0, len(text)+len(text)/2)}
	f.recs = make([]fastRec, 0, len(entries))
	for i := range entries {
		e := &entries[i]
		if len(e.toks) == 0 {
			return nil
		}
		if !f.entry(e) {
			return nil
		}
	}
	if len(f.recs) == 0 || len(f.recs) > max {
		return nil
	}
	recs := f.materialize()
	p := &parser{origin: origin, max: max}
	p.unifyTTLs(recs)
	recs = dedup(recs)
	recs = p.dropOccluded(recs)
	p.checkApex(recs)
	p.checkCNAMEs(recs)
	if len(p.problems.list) > 0 || len(p.warnings.list) > 0 {
		return nil
	}
	return p.zone(recs)
}

// entry reads one entry; false when the fast path must give up.
func (f *fastParser) entry(e *entry) bool {
	t0 := e.toks[0]
	if !t0.quoted && len(t0.text) > 0 && t0.text[0] == '$' {
		return f.directive(e)
	}
	if !f.plainWords(e) {
		return false
	}
	toks := e.toks
	r := fastRec{line: e.first}
	if e.indented {
		if !f.hasOwn {
			return false
		}
		r.name = f.owner
	} else {
		var ok bool
		if r.name, ok = f.name(toks[0].text, true); !ok {
			return false
		}
		toks = toks[1:]
		f.owner, f.hasOwn = r.name, true
	}
	hasTTL, hasClass := false, false
	var typ string
	for len(toks) > 0 {
		w := toks[0]
		if w.quoted {
			return false
		}
		toks = toks[1:]
		if !hasTTL && isDigits(w.text) {
			v, err := strconv.ParseUint(w.text, 10, 32)
			if err != nil {
				return false
			}
			r.ttl, hasTTL = uint32(v), true
			continue
		}
		if !hasClass && len(w.text) == 2 && w.text[0]|0x20 == 'i' && w.text[1]|0x20 == 'n' {
			hasClass = true
			continue
		}
		typ = w.text
		break
	}
	if !hasTTL {
		if !f.defOK {
			return false
		}
		r.ttl = f.def
	}
	r.data.off = int32(len(f.buf))
	if !f.rdata(&r, typ, toks) {
		return false
	}
	r.data.end = int32(len(f.buf))
	f.recs = append(f.recs, r)
	return true
}

// directive reads a $TTL or an absolute $ORIGIN inside the zone.
func (f *fastParser) directive(e *entry) bool {
	if e.indented || len(e.toks) != 2 || e.toks[1].quoted || !f.plainWords(e) {
		return false
	}
	d, arg := e.toks[0].text, e.toks[1].text
	switch {
	case len(d) == 4 && asciiUpperEq(d, "$TTL"):
		if !isDigits(arg) {
			return false
		}
		v, err := strconv.ParseUint(arg, 10, 32)
		if err != nil {
			return false
		}
		f.def, f.defOK = uint32(v), true
		return true
	case len(d) == 7 && asciiUpperEq(d, "$ORIGIN"):
		if arg == "" || arg[len(arg)-1] != '.' {
			return false
		}
		at := len(f.buf)
		s, ok := f.name(arg, false)
		if !ok {
			return false
		}
		o := string(f.buf[s.off:s.end])
		f.buf = f.buf[:at]
		if o != f.apex && !hasDotSuffix(o, f.apex) {
			return false
		}
		f.origin = o
		return true
	}
	return false
}

// plainWords checks that every word of e stands alone in the text as the
// zone parser reads it: an unquoted word is exactly its bytes (not glued
// across lines), a quoted one is its bytes between quotes, not empty, and
// each is set off by blanks or parentheses.
func (f *fastParser) plainWords(e *entry) bool {
	for _, tk := range e.toks {
		s := tk.text
		if tk.quoted {
			if s == "" || tk.off1-tk.off0 != len(s)+2 || tk.off1 > len(f.src) ||
				f.src[tk.off0] != '"' || f.src[tk.off1-1] != '"' || f.src[tk.off0+1:tk.off1-1] != s {
				return false
			}
			if tk.off1 < len(f.src) {
				if c := f.src[tk.off1]; c != ' ' && c != '\t' && c != '\n' && c != ')' {
					return false
				}
			}
		} else {
			// Inside parentheses a word may end at a newline; one glued to
			// the next line's text does not match its bytes.
			end := tk.off0 + len(s)
			if s == "" || end > len(f.src) || f.src[tk.off0:end] != s {
				return false
			}
			if end < len(f.src) {
				if c := f.src[end]; c != ' ' && c != '\t' && c != '\n' {
					return false
				}
			}
		}
		if tk.off0 > 0 {
			if c := f.src[tk.off0-1]; c != ' ' && c != '\t' && c != '\n' && c != '(' {
				return false
			}
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < ' ' || c > '~' || c == '"' || !tk.quoted && (c == '(' || c == ')' || c == ';') {
				return false
			}
		}
	}
	return true
}

// name writes the absolute, lower-case form of a name word to the buffer:
// "@", a relative name (the origin appended) or an absolute one, of
// letters, digits, '-' and '_' (an owner may start with the label "*").
func (f *fastParser) name(w string, owner bool) (span, bool) {
	start := int32(len(f.buf))
	if w == "@" {
		f.buf = append(f.buf, f.origin...)
		return span{start, int32(len(f.buf))}, true
	}
	if w == "." {
		if owner {
			return span{}, false
		}
		f.buf = append(f.buf, '.')
		return span{start, int32(len(f.buf))}, true
	}
	label := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_':
			label++
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			label++
		case c == '.':
			if label == 0 {
				return span{}, false
			}
			label = -1
		case c == '*' && owner && i == 0 && (len(w) == 1 || w[1] == '.'):
			label++
		default:
			return span{}, false
		}
		if label > maxLabelLen {
			return span{}, false
		}
		if label < 0 {
			label = 0
		}
		f.buf = append(f.buf, c)
	}
	if w[len(w)-1] != '.' {
		if label == 0 {
			return span{}, false
		}
		f.buf = append(f.buf, '.')
		f.buf = append(f.buf, f.origin...)
	}
	n := span{start, int32(len(f.buf))}
	if n.end-n.off > 254 {
		return span{}, false
	}
	if owner {
		if o := f.buf[n.off:n.end]; string(o) != f.apex && !bytesDotSuffix(o, f.apex) {
			return span{}, false
		}
	}
	return n, true
}

// rdata reads the RDATA words of a record of type typ (as written) and
// writes its presentation form to the buffer.
func (f *fastParser) rdata(r *fastRec, typ string, rd []token) bool {
	var ok bool
	switch {
	case asciiUpperEq(typ, "A"):
		r.typ = dns.TypeA
		ok = len(rd) == 1 && f.ip(r, rd[0].text, true)
	case asciiUpperEq(typ, "AAAA"):
		r.typ = dns.TypeAAAA
		ok = len(rd) == 1 && f.ip(r, rd[0].text, false)
	case asciiUpperEq(typ, "NS"), asciiUpperEq(typ, "CNAME"), asciiUpperEq(typ, "PTR"):
		r.typ = dns.StringToType[upperType(typ)]
		if len(rd) != 1 || rd[0].quoted {
			return false
		}
		r.f[0], ok = f.name(rd[0].text, false)
	case asciiUpperEq(typ, "MX"):
		r.typ = dns.TypeMX
		ok = len(rd) == 2 && f.number(r, 0, rd[0], 16) && f.space() && f.nameField(r, 0, rd[1])
	case asciiUpperEq(typ, "SRV"):
		r.typ = dns.TypeSRV
		ok = len(rd) == 4 && f.number(r, 0, rd[0], 16) && f.space() && f.number(r, 1, rd[1], 16) && f.space() &&
			f.number(r, 2, rd[2], 16) && f.space() && f.nameField(r, 0, rd[3])
	case asciiUpperEq(typ, "SOA"):
		r.typ = dns.TypeSOA
		ok = len(rd) == 7 && f.nameField(r, 0, rd[0]) && f.space() && f.nameField(r, 1, rd[1])
		for i := 0; ok && i < 5; i++ {
			ok = f.space() && f.number(r, i, rd[2+i], 32)
		}
	case asciiUpperEq(typ, "TXT"):
		r.typ = dns.TypeTXT
		ok = f.txt(r, rd)
	case asciiUpperEq(typ, "CAA"):
		r.typ = dns.TypeCAA
		ok = len(rd) == 3 && f.number(r, 0, rd[0], 8) && f.space() && f.caaTag(r, rd[1]) && f.space() && f.quoted(&r.f[1], rd[2])
	}
	return ok
}

func upperType(t string) string {
	switch {
	case asciiUpperEq(t, "NS"):
		return "NS"
	case asciiUpperEq(t, "CNAME"):
		return "CNAME"
	}
	return "PTR"
}

func (f *fastParser) space() bool {
	f.buf = append(f.buf, ' ')
	return true
}

// ip reads an address as the zone parser does (net.ParseIP, an A without
// ':' and an AAAA with one) and writes it as it prints.
func (f *fastParser) ip(r *fastRec, w string, v4 bool) bool {
	if hasColon(w) == v4 {
		return false
	}
	ip := net.ParseIP(w)
	if ip == nil {
		return false
	}
	if v4 {
		a4 := ip.To4()
		if a4 == nil {
			return false
		}
		f.buf = netip.AddrFrom4([4]byte(a4)).AppendTo(f.buf)
	} else {
		if ip.To4() != nil {
			return false // prints with the ::ffff: prefix: general path
		}
		f.buf = netip.AddrFrom16([16]byte(ip)).AppendTo(f.buf)
	}
	r.ip = ip
	return true
}

func hasColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}

// number reads an unsigned decimal of the given bits into r.n[i] and writes
// it as it prints.
func (f *fastParser) number(r *fastRec, i int, tk token, bits int) bool {
	if tk.quoted || !isDigits(tk.text) {
		return false
	}
	v, err := strconv.ParseUint(tk.text, 10, bits)
	if err != nil {
		return false
	}
	r.n[i] = uint32(v)
	f.buf = strconv.AppendUint(f.buf, v, 10)
	return true
}

func (f *fastParser) nameField(r *fastRec, i int, tk token) bool {
	if tk.quoted {
		return false
	}
	var ok bool
	r.f[i], ok = f.name(tk.text, false)
	return ok
}

// txt reads quoted strings of printable ASCII, 1 to 255 bytes each.
func (f *fastParser) txt(r *fastRec, rd []token) bool {
	if len(rd) == 0 || len(rd) > 64 {
		return false
	}
	first := len(f.txts)
	for i, tk := range rd {
		if i > 0 {
			f.buf = append(f.buf, ' ')
		}
		var s span
		if len(tk.text) > maxCharString || !f.quoted(&s, tk) {
			return false
		}
		f.txts = append(f.txts, s)
	}
	r.txt = f.txts[first:len(f.txts):len(f.txts)]
	return true
}

// quoted writes a quoted word (printable ASCII, no quote or backslash: the
// scanner and plainWords checked) with its quotes; s is its inside.
func (f *fastParser) quoted(s *span, tk token) bool {
	if !tk.quoted || tk.text == "" {
		return false
	}
	f.buf = append(f.buf, '"')
	s.off = int32(len(f.buf))
	f.buf = append(f.buf, tk.text...)
	s.end = int32(len(f.buf))
	f.buf = append(f.buf, '"')
	return true
}

// caaTag reads a CAA tag: 1 to 15 letters and digits (RFC 8659), kept as
// written.
func (f *fastParser) caaTag(r *fastRec, tk token) bool {
	if tk.quoted || len(tk.text) == 0 || len(tk.text) > 15 {
		return false
	}
	for i := 0; i < len(tk.text); i++ {
		if c := tk.text[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	r.f[0].off = int32(len(f.buf))
	f.buf = append(f.buf, tk.text...)
	r.f[0].end = int32(len(f.buf))
	return true
}

// materialize turns the records into recs whose strings are cut from one
// string holding all their text, and whose RRs are what the general path
// holds for them.
func (f *fastParser) materialize() []rec {
	all := string(f.buf)
	out := make([]rec, len(f.recs))
	for i := range f.recs {
		x := &f.recs[i]
		name := x.name.of(all)
		h := dns.RR_Header{Name: name, Rrtype: x.typ, Class: dns.ClassINET, Ttl: x.ttl}
		var rr dns.RR
		switch x.typ {
		case dns.TypeA:
			rr = &dns.A{Hdr: h, A: x.ip}
		case dns.TypeAAAA:
			rr = &dns.AAAA{Hdr: h, AAAA: x.ip}
		case dns.TypeNS:
			rr = &dns.NS{Hdr: h, Ns: x.f[0].of(all)}
		case dns.TypeCNAME:
			rr = &dns.CNAME{Hdr: h, Target: x.f[0].of(all)}
		case dns.TypePTR:
			rr = &dns.PTR{Hdr: h, Ptr: x.f[0].of(all)}
		case dns.TypeMX:
			rr = &dns.MX{Hdr: h, Preference: uint16(x.n[0]), Mx: x.f[0].of(all)}
		case dns.TypeSRV:
			rr = &dns.SRV{Hdr: h, Priority: uint16(x.n[0]), Weight: uint16(x.n[1]), Port: uint16(x.n[2]), Target: x.f[0].of(all)}
		case dns.TypeSOA:
			rr = &dns.SOA{Hdr: h, Ns: x.f[0].of(all), Mbox: x.f[1].of(all), Serial: x.n[0], Refresh: x.n[1], Retry: x.n[2], Expire: x.n[3], Minttl: x.n[4]}
		case dns.TypeTXT:
			t := make([]string, len(x.txt))
			for j, s := range x.txt {
				t[j] = s.of(all)
			}
			rr = &dns.TXT{Hdr: h, Txt: t}
		case dns.TypeCAA:
			rr = &dns.CAA{Hdr: h, Flag: uint8(x.n[0]), Tag: x.f[0].of(all), Value: x.f[1].of(all)}
		}
		out[i] = rec{Record: Record{Name: name, TTL: x.ttl, Type: typeNames[x.typ], Data: x.data.of(all)}, rr: rr, line: x.line}
	}
	return out
}

var typeNames = map[uint16]string{
	dns.TypeA: "A", dns.TypeAAAA: "AAAA", dns.TypeNS: "NS", dns.TypeCNAME: "CNAME", dns.TypePTR: "PTR",
	dns.TypeMX: "MX", dns.TypeSRV: "SRV", dns.TypeSOA: "SOA", dns.TypeTXT: "TXT", dns.TypeCAA: "CAA",
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// asciiUpperEq reports whether s equals the upper-case word u, ignoring
// the case of s.
func asciiUpperEq(s, u string) bool {
	if len(s) != len(u) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != u[i] {
			return false
		}
	}
	return true
}

func hasDotSuffix(s, parent string) bool {
	return len(s) > len(parent) && s[len(s)-len(parent)-1] == '.' && s[len(s)-len(parent):] == parent
}

func bytesDotSuffix(b []byte, parent string) bool {
	return len(b) > len(parent) && b[len(b)-len(parent)-1] == '.' && string(b[len(b)-len(parent):]) == parent
}
