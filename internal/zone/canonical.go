package zone

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// rec is a record on its way into a Zone.
type rec struct {
	Record
	rr   dns.RR
	line int
}

// finish validates the parsed records and builds the Zone, or the refusal.
func (p *parser) finish(in []parsed) (*Zone, error) {
	p.applyTTLs(in)
	recs := p.canonicalRecords(in)
	p.unifyTTLs(recs)
	recs = dedup(recs)
	recs = p.dropOccluded(recs)
	p.checkApex(recs)
	p.checkCNAMEs(recs)
	if len(p.problems.list) > 0 {
		return nil, p.refusal()
	}
	return p.zone(recs), nil
}

// canonicalRecords converts what the parser returned into canonical
// records, in input order, dropping (with a problem or a warning) what
// cannot be kept.
func (p *parser) canonicalRecords(in []parsed) []rec {
	out := make([]rec, 0, len(in))
	bufp := packBufs.Get().(*[]byte)
	defer packBufs.Put(bufp)
	buf := *bufp
	for _, x := range in {
		fixed, err := fixSVCBKeys(x.rr)
		if err != nil {
			p.problems.add(x.line, dns.Type(x.rr.Header().Rrtype).String()+" record: "+err.Error())
			continue
		}
		x.rr = fixed
		if msg := badRR(x.rr); msg != "" {
			p.problems.add(x.line, msg)
			continue
		}
		rr, s, err := canonicalRR(x.rr, buf, p.escaped(x))
		if err != nil {
			p.problems.add(x.line, dns.Type(x.rr.Header().Rrtype).String()+" record "+err.Error())
			continue
		}
		r, ok := p.keep(x, rr, s)
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// packBufs holds buffers big enough for any record, to check that each
// record can be sent on the wire.
var packBufs = sync.Pool{New: func() any {
	b := make([]byte, 0xffff+512)
	return &b
}}

// keep applies the per-record rules that need the canonical form.
func (p *parser) keep(x parsed, rr dns.RR, s string) (rec, bool) {
	f, ok := tabFields(s)
	if !ok {
		p.problems.add(x.line, "record cannot be written in canonical form")
		return rec{}, false
	}
	r := rec{Record: Record{Name: f[0], TTL: rr.Header().Ttl, Type: f[3], Data: f[4]}, rr: rr, line: x.line}
	if !dns.IsSubDomain(p.origin.FQDN(), r.Name) {
		p.warnings.add(x.line, r.Name+" "+r.Type+" is outside the zone; record dropped")
		return rec{}, false
	}
	if msg := badOwner(r.Name); msg != "" {
		p.problems.add(x.line, "owner name "+r.Name+": "+msg)
		return rec{}, false
	}
	if line, n := p.txtTooLong(x); n > 0 {
		p.problems.add(line, "TXT character-string of "+itoa(n)+" bytes; the limit is 255: split it into several quoted strings")
		return rec{}, false
	}
	return r, true
}

// tabFields cuts a record's text at its first four tabs (owner, TTL,
// class, type, data), as strings.SplitN(s, "\t", 5) but without
// allocating; false when there are fewer.
func tabFields(s string) ([5]string, bool) {
	var f [5]string
	for i := range 4 {
		j := strings.IndexByte(s, '\t')
		if j < 0 {
			return f, false
		}
		f[i], s = s[:j], s[j+1:]
	}
	f[4] = s
	return f, true
}

// badOwner explains why an owner name cannot be kept, or returns "".
// Owners are data named loads whatever bytes their labels hold; dadns
// keeps those it can write the same way to every backend: bytes the zone
// parser prints as they are (so canonical text needs no escapes and sorts
// by plain byte order). It refuses, each for a reason:
//   - a byte the parser would escape (space, quote, ( ) ; @ \ and
//     non-printable bytes): escaped names are spelled differently by each
//     server and SQL backend, so equal zones would not compare equal;
//   - a '$' at the start: the canonical line would read as a directive.
func badOwner(name string) string {
	if strings.HasPrefix(name, "$") {
		return "a name starting with '$' would read as a directive in a zone file"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`\"'();@`, c) >= 0 {
			return "has a character that zone files must escape (space, quotes, ( ) ; @ \\ or a non-printable byte)"
		}
	}
	return ""
}

// badRR explains why a parsed record can never be in a zone, or returns "".
func badRR(rr dns.RR) string {
	h := rr.Header()
	switch {
	case h.Class != dns.ClassINET:
		return "class " + dns.Class(h.Class).String() + " is not supported (only IN)"
	case isMetaType(h.Rrtype):
		return "type " + dns.Type(h.Rrtype).String() + " cannot appear in a zone"
	case emptyRdata(rr):
		return dns.Type(h.Rrtype).String() + " record without data"
	}
	return ""
}

// isMetaType reports the query and meta types (RFC 6895 §3.1).
func isMetaType(t uint16) bool {
	return t == dns.TypeNone || t == dns.TypeOPT || t >= 128 && t <= 255
}

// emptyRdata reports a record that has no RDATA at all, which miekg/dns
// returns (as for a dynamic update) when the input ends right after the type.
func emptyRdata(rr dns.RR) bool {
	switch r := rr.(type) { // the common types, without building a zero record
	case *dns.A:
		return len(r.A) == 0
	case *dns.AAAA:
		return len(r.AAAA) == 0
	case *dns.NS:
		return r.Ns == ""
	case *dns.CNAME:
		return r.Target == ""
	case *dns.MX:
		return r.Mx == "" && r.Preference == 0
	case *dns.TXT:
		return len(r.Txt) == 0
	}
	mk, ok := dns.TypeToRR[rr.Header().Rrtype]
	if !ok {
		return false // RFC 3597 "\# 0" is a valid empty RDATA
	}
	if _, generic := rr.(*dns.RFC3597); generic {
		return false
	}
	if t := rr.Header().Rrtype; t == dns.TypeAPL || t == dns.TypeNULL {
		return false // no items (RFC 3123) / no octets: valid, as named agrees
	}
	zero := mk()
	*zero.Header() = *rr.Header()
	return dns.IsDuplicate(rr, zero)
}

// canonicalRR puts rr in canonical form: names lower-cased, then through
// the wire format and back, so that every way of writing the same RDATA
// (hex case, IPv6 spelling, base64 line breaks, escapes) prints the same.
// It checks that this text reads back unchanged, so that a zone's Text
// always parses into the same zone, and returns the record read back.
func canonicalRR(rr dns.RR, buf []byte, escaped bool) (dns.RR, string, error) {
	lowerNames(rr)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, "", fmt.Errorf("cannot be encoded: %w", err)
	}
	if !fullReadback && !escaped && plainFields(rr) {
		// Numbers, addresses and names written without escapes: the
		// parser already holds them as the wire form reads back (names
		// lower-cased above, addresses in their 16-byte form), so the
		// record needs no trip through it (encoding it above checked
		// that it can be sent).
		if s := rr.String(); plainText(rr, s) {
			rr.Header().Rdlength = 0
			if a, ok := rr.(*dns.A); ok {
				a.A = a.A.To16()
			}
			return rr, s, nil
		}
	}
	wire, _, err := dns.UnpackRR(buf[:n], 0)
	if err != nil {
		return nil, "", fmt.Errorf("cannot be decoded: %w", err)
	}
	lowerNames(wire)
	wire = genericForm(wire)
	s := wire.String()
	if !fullReadback && plainText(wire, s) {
		// As the record read from the text would have it.
		wire.Header().Rdlength = 0
		if a, ok := wire.(*dns.A); ok {
			a.A = a.A.To16()
		}
		return wire, s, nil
	}
	back, err := dns.NewRR(s)
	if err != nil {
		msg, _, _ := describeParseError(err)
		return nil, "", errors.New("its canonical text does not read back: " + msg)
	}
	if back == nil {
		return nil, "", errors.New("its canonical text does not read back")
	}
	lowerNames(back)
	back = genericForm(back)
	if back.String() != s {
		return nil, "", errors.New("its canonical text does not read back the same")
	}
	return back, s, nil
}

// genericForm keeps in RFC 3597 form ("TYPE10 \# 4 0a0b0c0d") the records
// whose presentation form the zone parser cannot read back: NULL, which has
// none, and APL without items, which prints as nothing.
func genericForm(rr dns.RR) dns.RR {
	switch r := rr.(type) {
	case *dns.NULL:
	case *dns.APL:
		if len(r.Prefixes) > 0 {
			return rr
		}
	default:
		return rr
	}
	g := new(dns.RFC3597)
	if err := g.ToRFC3597(rr); err != nil {
		return rr
	}
	return g
}

// plainFields reports the types whose fields are all numbers, addresses
// and domain names: no strings, whose bytes the parser and the wire form
// may hold differently.
func plainFields(rr dns.RR) bool {
	switch rr.(type) {
	case *dns.A, *dns.AAAA, *dns.NS, *dns.CNAME, *dns.PTR, *dns.MX, *dns.SOA, *dns.SRV:
		return true
	}
	return false
}

// escaped reports whether x came from text that holds a backslash, or from
// $GENERATE: its fields may be spelled otherwise than the wire form reads
// back.
func (p *parser) escaped(x parsed) bool {
	if x.generated || x.entry < 0 || x.entry >= len(p.entries) {
		return true
	}
	e := &p.entries[x.entry]
	return bytes.IndexByte(p.text[e.off0:e.off1], '\\') >= 0
}

// fullReadback makes canonicalRR read every record's text back, also the
// plain ones (tests compare both ways).
var fullReadback = false

// plainText reports whether s, the text of rr, certainly reads back as
// itself, so that canonicalRR may skip reading it back: rr is of a type
// whose presentation form is plain numbers, addresses, domain names and
// quoted strings, and s holds no escape or byte outside printable ASCII.
// Reading back costs as much as the rest of the canonical form; the records
// of DirectAdmin's zones are nearly all plain.
func plainText(rr dns.RR, s string) bool {
	if strings.HasPrefix(s, "$") {
		return false // reads as a directive: refused as reading back
	}
	switch rr.(type) {
	case *dns.A, *dns.AAAA, *dns.NS, *dns.CNAME, *dns.PTR, *dns.MX, *dns.SOA, *dns.SRV:
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < ' ' && c != '\t' || c > '~' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' {
				return false
			}
		}
		return true
	case *dns.TXT:
		// Every string quoted; a quote or backslash inside one is escaped.
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < ' ' && c != '\t' || c > '~' || c == '\\' {
				return false
			}
		}
		return true
	}
	return false
}
