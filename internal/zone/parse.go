package zone

import (
	"bytes"
	"fmt"
	"io"

	"github.com/miekg/dns"
)

// DefaultMaxRecords is the record limit when Limits.MaxRecords is zero.
const DefaultMaxRecords = 50000

// parsed is one record as the zone parser returned it, with where it came
// from.
type parsed struct {
	rr        dns.RR
	line      int
	entry     int  // index into parser.entries
	generated bool // made by $GENERATE: the entry's words are not its own
}

// parser holds the state of one Parse call.
type parser struct {
	origin    Name
	max       int
	text      []byte // a private copy: refused entries get blanked in it
	entries   []entry
	problems  problemList
	warnings  problemList
	overflow  bool // the record limit was passed: nothing else matters
	brokenSOA bool // an SOA entry had a syntax error: "no SOA" would be noise
}

// Parse reads a zone file for origin, validates it and returns it in
// canonical form. A refusal is an *Error listing every problem found with
// its line. $INCLUDE lines are skipped with a warning and never read.
func Parse(origin Name, text []byte, lim Limits) (*Zone, error) {
	if err := checkOrigin(origin); err != nil {
		return nil, err
	}
	if z := parseFast(origin, string(text), maxRecords(lim)); z != nil {
		return z, nil
	}
	return parseGeneral(origin, text, lim)
}

// ParseString is Parse of a text held as a string: the zone's fast path
// reads it in place (Parse copies its bytes first), so a caller that keeps
// the pushed text as a string anyway copies it once.
func ParseString(origin Name, text string, lim Limits) (*Zone, error) {
	if err := checkOrigin(origin); err != nil {
		return nil, err
	}
	if z := parseFast(origin, text, maxRecords(lim)); z != nil {
		return z, nil
	}
	return parseGeneral(origin, []byte(text), lim)
}

// maxRecords is the record limit of lim.
func maxRecords(lim Limits) int {
	if lim.MaxRecords <= 0 {
		return DefaultMaxRecords
	}
	return lim.MaxRecords
}

// parseGeneral is Parse through miekg/dns's zone parser: every form, every
// check, every message. parseFast gives the same zone, more cheaply, for
// the zones it is sure of.
func parseGeneral(origin Name, text []byte, lim Limits) (*Zone, error) {
	p := newParser(origin, text, lim)
	if p.overflow {
		return nil, p.refusal()
	}
	p.skipIncludes()
	p.checkOrigins()
	p.rewriteForms()
	recs := p.parseAll()
	if p.overflow || p.problems.stopped {
		return nil, p.refusal()
	}
	return p.finish(recs)
}

// checkOrigin refuses a zone name that ParseName would not have returned.
func checkOrigin(origin Name) error {
	n, err := ParseName(string(origin))
	if err != nil || n != origin {
		return &Error{Zone: origin, Problems: []Problem{{Msg: "invalid zone name " + quoteShort(string(origin), 80)}}}
	}
	return nil
}

func newParser(origin Name, text []byte, lim Limits) *parser {
	limit := maxRecords(lim)
	p := &parser{origin: origin, max: limit, text: bytes.Clone(text)}
	var over bool
	p.entries, over = scanEntriesMax(p.text, limit)
	if over {
		last := p.entries[len(p.entries)-1]
		p.problems.add(last.first, fmt.Sprintf("more than %d records (the limit)", p.max))
		p.overflow = true
	}
	return p
}

// skipIncludes blanks every $INCLUDE entry (any case, indented or not), so
// that the file it names is never opened and line numbers stay right.
func (p *parser) skipIncludes() {
	found := false
	for i := range p.entries {
		e := &p.entries[i]
		if e.directive() != "$INCLUDE" {
			continue
		}
		msg := "$INCLUDE skipped: included files are never read"
		if f := e.arg(0); f != "" {
			msg = "$INCLUDE " + quoteShort(f, 100) + " skipped: included files are never read"
		}
		p.warnings.add(e.first, msg)
		p.blankBytes(e)
		found = true
	}
	if found {
		p.entries = scanEntries(p.text)
	}
}

// checkOrigins refuses an absolute $ORIGIN outside the zone. A relative one
// is appended to the current origin, which is then inside already.
func (p *parser) checkOrigins() {
	for i := range p.entries {
		e := &p.entries[i]
		if e.indented || e.directive() != "$ORIGIN" {
			continue
		}
		o := e.arg(0)
		if o == "" || !dns.IsFqdn(o) || dns.IsSubDomain(p.origin.FQDN(), o) {
			continue
		}
		p.problems.add(e.first, "$ORIGIN "+quoteShort(o, 80)+" is outside the zone "+p.origin.FQDN())
	}
}

// parseAll runs the zone parser until it gets through the whole text. Each
// syntax error is recorded and its entry blanked before the next run, so
// that one refusal lists every bad line. It returns the records of the last
// run.
func (p *parser) parseAll() []parsed {
	for {
		recs, st := p.parseOnce()
		if st.err == nil || p.overflow {
			return recs
		}
		if !p.syntaxProblem(st) {
			return nil
		}
		if p.problems.full() {
			p.problems.stopped = true
			return nil
		}
	}
}

// stop describes where a parser run ended.
type stop struct {
	err       error
	pos       int // reader offset when it stopped
	prevOff   int // reader offset after the last record returned
	prevEntry int // entry of that record, -1 when there was none
}

// parseOnce is one pass of miekg/dns's parser over the text. It stops as
// soon as the record count passes the limit.
func (p *parser) parseOnce() ([]parsed, stop) {
	r := &byteReader{b: p.text}
	zp := dns.NewZoneParser(r, p.origin.FQDN(), "")
	zp.SetIncludeAllowed(false)
	zp.SetDefaultTTL(0) // never stop at a missing TTL: applyTTLs decides as BIND does
	var recs []parsed
	st := stop{prevEntry: -1}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		x := p.locate(rr, r.off)
		recs = append(recs, x)
		st.prevOff, st.prevEntry = r.off, x.entry
		if len(recs) > p.max {
			p.problems.add(x.line, fmt.Sprintf("more than %d records (the limit)", p.max))
			p.overflow = true
			return nil, st
		}
	}
	st.err, st.pos = zp.Err(), r.off
	return recs, st
}

// locate attributes a record to its entry: the parser has just consumed the
// newline that ends it.
func (p *parser) locate(rr dns.RR, off int) parsed {
	i := entryAt(p.entries, off-1)
	if i < 0 {
		return parsed{rr: rr, entry: -1}
	}
	e := &p.entries[i]
	return parsed{rr: rr, line: e.first, entry: i, generated: e.directive() == "$GENERATE"}
}

// syntaxProblem records a parse error and blanks the entry it is in. It
// returns false when no entry could be blamed (no progress possible).
func (p *parser) syntaxProblem(st stop) bool {
	msg, line, word := describeParseError(st.err)
	i := p.failedEntry(st, line)
	if i < 0 {
		p.problems.add(line, msg)
		return false
	}
	p.problems.add(wordLine(&p.entries[i], line, word), msg)
	if typeWord(&p.entries[i]) == "SOA" {
		p.brokenSOA = true
	}
	p.blankBytes(&p.entries[i])
	p.entries = scanEntries(p.text)
	return true
}

// wordLine corrects the line the parser gave for an error in entry e. The
// parser may read on into the next entry before it notices that a record
// is short, reports lines of the generated text for $GENERATE, and gives a
// word that ends a line inside parentheses the next line's number.
func wordLine(e *entry, line int, word string) int {
	if line < e.first || line > e.last {
		return e.first
	}
	for i := len(e.toks) - 1; i >= 0 && word != ""; i-- {
		if tk := e.toks[i]; tk.text == word && tk.line <= line {
			return tk.line
		}
	}
	return line
}

// failedEntry finds the entry the failing call of Next was reading: the
// first one after the last record returned, past the $TTL and $ORIGIN
// lines it got through (unless the error is on one of them). A $GENERATE
// that fails after some records keeps the reader where it was.
func (p *parser) failedEntry(st stop, line int) int {
	if st.prevEntry >= 0 && st.pos == st.prevOff && p.entries[st.prevEntry].directive() == "$GENERATE" {
		return st.prevEntry
	}
	for i := entryFrom(p.entries, st.prevOff); i < len(p.entries); i++ {
		e := &p.entries[i]
		if !e.setsState() || line >= e.first && line <= e.last {
			return i
		}
	}
	return entryAtLine(p.entries, line)
}

// blankBytes replaces an entry by spaces, keeping its newlines.
func (p *parser) blankBytes(e *entry) {
	for i := e.off0; i < e.off1; i++ {
		if p.text[i] != '\n' {
			p.text[i] = ' '
		}
	}
}

// refusal is the *Error for everything found so far.
func (p *parser) refusal() error {
	return &Error{Zone: p.origin, Problems: p.problems.sorted(maxProblems, "errors")}
}

// byteReader lets the zone parser read byte by byte, so off tells exactly
// how far it has got.
type byteReader struct {
	b   []byte
	off int
}

func (r *byteReader) ReadByte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *byteReader) Read(b []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(b, r.b[r.off:])
	r.off += n
	return n, nil
}
