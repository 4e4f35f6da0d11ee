package zone

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

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
	typ  uint16
	ttl  uint32
	name span // owner, absolute, lower-case
	data span // presentation RDATA as the record prints it
	key  span // owner in canonical order (canonicalKey), in keys
	f    [2]span
	n    [5]uint32
	ip   [16]byte
	txt  span // TXT strings: f.txts[txt.off:txt.end]
}

// span is buf[off:end] (or, for txt, a range of f.txts).
type span struct{ off, end int32 }

// word is one word of an entry: quoted ones without their quotes.
type word struct {
	s      string
	quoted bool
}

// fastParser is the state of one fast read.
type fastParser struct {
	src     string // the input
	apex    string // origin FQDN
	origin  string // current $ORIGIN
	max     int
	buf     []byte // the records' owners and RDATA, as printed
	keys    []byte // the owners' canonical sort keys
	recs    []fastRec
	txts    []span
	owner   span // the last owner, for lines that start blank
	ownerOK bool
	def     uint32
	defOK   bool
}

// parseFast returns the zone Parse would return, or nil when it cannot
// tell (the general path then reads the zone).
func parseFast(origin Name, text string, max int) *Zone {
	if strings.IndexByte(text, '\\') >= 0 || strings.IndexByte(text, '\r') >= 0 {
		return nil
	}
	apex := origin.FQDN()
	// Sized for a DirectAdmin zone; a huge input (refused, most likely)
	// gets no more up front than 256 KiB.
	n := min(len(text), 256<<10)
	f := &fastParser{src: text, apex: apex, origin: apex, max: max,
		buf: make([]byte, 0, n+n/4), keys: make([]byte, 0, n/4+64),
		recs: make([]fastRec, 0, 32), txts: make([]span, 0, 16)}
	if !f.scan() || len(f.recs) == 0 {
		return nil
	}
	return f.zone(origin)
}

// scan splits the text into entries as the scanner (and miekg/dns's lexer)
// would, and reads each. It gives up on any byte or layout whose reading
// it is not sure of: a control or non-ASCII byte in a word, a word glued
// to a quote or parenthesis, a word ending a line inside parentheses
// without a blank after it, an unbalanced parenthesis, an empty or
// unterminated string, a string spanning lines.
func (f *fastParser) scan() bool {
	s := f.src
	words := make([]word, 0, 16)
	depth, open, indented, blank := 0, false, false, false
	begin := func() {
		if !open {
			open, indented = true, blank
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case ' ', '\t':
			if !open {
				blank = true
			}
			i++
		case '\n':
			if depth == 0 && open {
				if !f.entry(words, indented) {
					return false
				}
				words, open = words[:0], false
			}
			blank = false
			i++
		case ';':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = len(s) - i
			}
			i += j
		case '(':
			if !open {
				return false // the lexer reads what follows otherwise
			}
			depth++
			i++
		case ')':
			if depth == 0 {
				return false
			}
			depth--
			i++
		case '"':
			if i > 0 && s[i-1] != ' ' && s[i-1] != '\t' && s[i-1] != '(' {
				return false
			}
			j := strings.IndexByte(s[i+1:], '"')
			if j <= 0 {
				return false // unterminated or empty
			}
			w := s[i+1 : i+1+j]
			for k := 0; k < len(w); k++ {
				if w[k] < ' ' || w[k] > '~' {
					return false
				}
			}
			i += j + 2
			if i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != ')' {
				return false
			}
			begin()
			words = append(words, word{w, true})
		default:
			if i > 0 && s[i-1] == ')' {
				return false
			}
			start := i
			for ; i < len(s); i++ {
				c := s[i]
				if c == ' ' || c == '\t' || c == '\n' {
					break
				}
				if c <= ' ' || c > '~' || c == ';' || c == '(' || c == ')' || c == '"' {
					return false
				}
			}
			if depth > 0 && i < len(s) && s[i] == '\n' && i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\t' {
				return false // the lexer glues the next line's text on
			}
			begin()
			words = append(words, word{s[start:i], false})
		}
	}
	if depth != 0 {
		return false
	}
	if open {
		return f.entry(words, indented)
	}
	return true
}

// entry reads one entry; false when the fast path must give up.
func (f *fastParser) entry(words []word, indented bool) bool {
	if len(words) == 0 {
		return false
	}
	if w := words[0]; !w.quoted && w.s[0] == '$' {
		return !indented && f.directive(words)
	}
	if len(f.recs) >= f.max {
		return false // the general path refuses the zone
	}
	var r fastRec
	if indented {
		if !f.ownerOK {
			return false
		}
		r.name, r.key = f.owner, f.recs[len(f.recs)-1].key
	} else {
		var ok bool
		if words[0].quoted {
			return false
		}
		if r.name, ok = f.name(words[0].s, true); !ok {
			return false
		}
		r.key = f.canonicalKey(r.name)
		words = words[1:]
		f.owner, f.ownerOK = r.name, true
	}
	hasTTL, hasClass := false, false
	var typ string
	for len(words) > 0 {
		w := words[0]
		if w.quoted {
			return false
		}
		words = words[1:]
		if !hasTTL && isDigits(w.s) {
			v, err := strconv.ParseUint(w.s, 10, 32)
			if err != nil {
				return false
			}
			r.ttl, hasTTL = uint32(v), true
			continue
		}
		if !hasClass && len(w.s) == 2 && w.s[0]|0x20 == 'i' && w.s[1]|0x20 == 'n' {
			hasClass = true
			continue
		}
		typ = w.s
		break
	}
	if !hasTTL {
		if !f.defOK {
			return false
		}
		r.ttl = f.def
	}
	r.data.off = int32(len(f.buf))
	if !f.rdata(&r, typ, words) {
		return false
	}
	r.data.end = int32(len(f.buf))
	f.recs = append(f.recs, r)
	return true
}

// canonicalKey writes the canonical sort key of the owner at n (as
// canonicalKey does) to keys.
func (f *fastParser) canonicalKey(n span) span {
	owner := f.buf[n.off : n.end-1] // no trailing dot
	k := span{off: int32(len(f.keys))}
	for end := len(owner); ; {
		dot := bytes.LastIndexByte(owner[:end], '.')
		f.keys = append(f.keys, owner[dot+1:end]...)
		if dot < 0 {
			break
		}
		f.keys = append(f.keys, 0)
		end = dot
	}
	k.end = int32(len(f.keys))
	return k
}

// directive reads a $TTL or an absolute $ORIGIN inside the zone.
func (f *fastParser) directive(words []word) bool {
	if len(words) != 2 || words[1].quoted {
		return false
	}
	d, arg := words[0].s, words[1].s
	switch {
	case asciiUpperEq(d, "$TTL"):
		if !isDigits(arg) {
			return false
		}
		v, err := strconv.ParseUint(arg, 10, 32)
		if err != nil {
			return false
		}
		f.def, f.defOK = uint32(v), true
		return true
	case asciiUpperEq(d, "$ORIGIN"):
		if arg[len(arg)-1] != '.' {
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
func (f *fastParser) rdata(r *fastRec, typ string, rd []word) bool {
	var ok bool
	switch {
	case asciiUpperEq(typ, "A"):
		r.typ = dns.TypeA
		ok = len(rd) == 1 && f.ip(r, rd[0], true)
	case asciiUpperEq(typ, "AAAA"):
		r.typ = dns.TypeAAAA
		ok = len(rd) == 1 && f.ip(r, rd[0], false)
	case asciiUpperEq(typ, "NS"), asciiUpperEq(typ, "CNAME"), asciiUpperEq(typ, "PTR"):
		r.typ = dns.TypePTR
		if asciiUpperEq(typ, "NS") {
			r.typ = dns.TypeNS
		} else if asciiUpperEq(typ, "CNAME") {
			r.typ = dns.TypeCNAME
		}
		ok = len(rd) == 1 && f.nameField(r, 0, rd[0])
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

func (f *fastParser) space() bool {
	f.buf = append(f.buf, ' ')
	return true
}

// ip reads an address as the zone parser does (net.ParseIP: netip's
// reading without a zone; an A without ':', an AAAA with one) and writes
// it as it prints.
func (f *fastParser) ip(r *fastRec, tk word, v4 bool) bool {
	if tk.quoted || hasColon(tk.s) == v4 {
		return false
	}
	a, err := netip.ParseAddr(tk.s)
	if err != nil || a.Zone() != "" || a.Is4In6() || a.Is4() != v4 {
		return false // an AAAA ::ffff:a.b.c.d prints otherwise: general path
	}
	r.ip = a.As16()
	f.buf = a.AppendTo(f.buf)
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
func (f *fastParser) number(r *fastRec, i int, tk word, bits int) bool {
	if tk.quoted || !isDigits(tk.s) {
		return false
	}
	v, err := strconv.ParseUint(tk.s, 10, bits)
	if err != nil {
		return false
	}
	r.n[i] = uint32(v)
	f.buf = strconv.AppendUint(f.buf, v, 10)
	return true
}

func (f *fastParser) nameField(r *fastRec, i int, tk word) bool {
	if tk.quoted {
		return false
	}
	var ok bool
	r.f[i], ok = f.name(tk.s, false)
	return ok
}

// txt reads quoted strings of printable ASCII, 1 to 255 bytes each.
func (f *fastParser) txt(r *fastRec, rd []word) bool {
	if len(rd) == 0 || len(rd) > 64 {
		return false
	}
	r.txt.off = int32(len(f.txts))
	for i, tk := range rd {
		if i > 0 {
			f.buf = append(f.buf, ' ')
		}
		var s span
		if len(tk.s) > maxCharString || !f.quoted(&s, tk) {
			return false
		}
		f.txts = append(f.txts, s)
	}
	r.txt.end = int32(len(f.txts))
	return true
}

// quoted writes a quoted word (printable ASCII, no quote or backslash: scan
// checked) with its quotes; s is its inside.
func (f *fastParser) quoted(s *span, tk word) bool {
	if !tk.quoted || tk.s == "" {
		return false
	}
	f.buf = append(f.buf, '"')
	s.off = int32(len(f.buf))
	f.buf = append(f.buf, tk.s...)
	s.end = int32(len(f.buf))
	f.buf = append(f.buf, '"')
	return true
}

// caaTag reads a CAA tag: 1 to 15 letters and digits (RFC 8659), kept as
// written.
func (f *fastParser) caaTag(r *fastRec, tk word) bool {
	if tk.quoted || len(tk.s) == 0 || len(tk.s) > 15 {
		return false
	}
	for i := 0; i < len(tk.s); i++ {
		if c := tk.s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	r.f[0].off = int32(len(f.buf))
	f.buf = append(f.buf, tk.s...)
	r.f[0].end = int32(len(f.buf))
	return true
}

// typeName is the mnemonic of a type the fast path reads.
func typeName(t uint16) string {
	switch t {
	case dns.TypeA:
		return "A"
	case dns.TypeAAAA:
		return "AAAA"
	case dns.TypeNS:
		return "NS"
	case dns.TypeCNAME:
		return "CNAME"
	case dns.TypePTR:
		return "PTR"
	case dns.TypeMX:
		return "MX"
	case dns.TypeSRV:
		return "SRV"
	case dns.TypeSOA:
		return "SOA"
	case dns.TypeTXT:
		return "TXT"
	case dns.TypeCAA:
		return "CAA"
	}
	return ""
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
