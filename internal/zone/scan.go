package zone

import (
	"sort"
	"strings"
)

// token is one word of a zone entry, as miekg/dns's lexer would cut it:
// escapes are kept as written, quotes are removed from quoted strings.
type token struct {
	text       string
	quoted     bool
	line       int
	off0, off1 int // its bytes in the text, quotes included
}

// entry is one logical line of a zone file: a directive or a record, which
// parentheses or quoted strings may spread over several physical lines.
type entry struct {
	first, last int // 1-based lines
	off0, off1  int // the whole lines it occupies: text[off0:off1]
	indented    bool
	toks        []token
	tokAt       int // where toks starts in the scanner's list of words
}

// directive returns the upper-cased first word when the entry is a
// $-directive, or "".
func (e *entry) directive() string {
	if len(e.toks) == 0 || e.toks[0].quoted || !strings.HasPrefix(e.toks[0].text, "$") {
		return ""
	}
	return strings.ToUpper(e.toks[0].text)
}

// setsState reports a $TTL or $ORIGIN line: the parser reads it within the
// call that returns the next record.
func (e *entry) setsState() bool {
	d := e.directive()
	return !e.indented && (d == "$TTL" || d == "$ORIGIN")
}

// arg returns the i-th word after the first one, or "".
func (e *entry) arg(i int) string {
	if i+1 >= len(e.toks) {
		return ""
	}
	return e.toks[i+1].text
}

// scanner splits zone text into entries. It mirrors the tokenizing rules of
// miekg/dns's zlexer (quotes, escapes, comments, parentheses) so that line
// numbers and words agree with what the real parser sees; the parser itself
// still decides what is valid.
type scanner struct {
	line    int
	lineOff int
	blank   bool // a space or tab was seen on this line before any word
	quote   bool
	escape  bool
	comment bool
	brace   int
	tok     []byte
	inTok   bool
	tokLine int
	tokOff  int // where the current word started
	pos     int // offset of the byte being read
	// src is the text as one string: a word whose bytes lie together in
	// the text (nearly every one) is cut from it, not copied.
	src      string
	tokStart int  // offset of the word's first byte in the text
	contig   bool // every byte of the word so far follows the one before
	cur      entry
	open     bool    // cur is an entry begun and not yet ended
	toks     []token // the words of every entry; each entry has its part
	out      []entry
	records  int // entries that are not directives: each holds at least one record
	max      int // stop once records passes it (0: no limit)
}

// scanEntries returns the entries of text in order.
func scanEntries(text []byte) []entry {
	es, _ := scanEntriesMax(text, 0)
	return es
}

// scanEntriesMax is scanEntries that stops early, returning true, once more
// than max entries that are not directives have been seen: the zone has
// more than max records, and a huge input is not split to the end.
func scanEntriesMax(text []byte, max int) ([]entry, bool) {
	return scanString(string(text), max)
}

// scanString is scanEntriesMax of text held as a string: the words are cut
// from it.
func scanString(text string, max int) ([]entry, bool) {
	// An entry per line at most; a word per 12 bytes is about what zone
	// files hold (append grows the list past that).
	s := &scanner{line: 1, max: max, src: text, toks: make([]token, 0, len(text)/12+8),
		out: make([]entry, 0, min(strings.Count(text, "\n")+1, 1<<16))}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if s.max > 0 && s.records > s.max {
			return s.out, true
		}
		s.step(i, c)
		if c == '\n' {
			s.line++
			s.lineOff = i + 1
			s.blank = false
		}
	}
	s.pos = len(text)
	s.flush()
	if n := len(text); n > 0 && text[n-1] == '\n' {
		s.line-- // the input's last line ended with its newline
	}
	s.end(len(text))
	return s.out, s.max > 0 && s.records > s.max
}

func (s *scanner) step(i int, c byte) {
	s.pos = i
	if s.comment {
		if c != '\n' {
			return
		}
		s.comment = false
	}
	switch c {
	case ' ', '\t':
		s.space(c)
	case ';':
		s.semicolon()
	case '\r':
		s.escape = false
		if s.quote {
			s.add(c)
		}
	case '\n':
		s.newline(i)
	case '\\':
		s.add(c)
		s.escape = !s.escape
	case '"':
		s.dquote(c)
	case '(', ')':
		s.paren(c)
	default:
		s.escape = false
		s.add(c)
	}
}

func (s *scanner) space(c byte) {
	if s.escape || s.quote {
		s.push(c)
		s.escape = false
		return
	}
	if !s.open {
		s.blank = true
	}
	s.flush()
}

func (s *scanner) semicolon() {
	if s.escape || s.quote {
		s.add(';')
		s.escape = false
		return
	}
	s.flush()
	s.comment = true
}

func (s *scanner) newline(i int) {
	s.escape = false
	if s.quote {
		s.push('\n')
		return
	}
	// Inside parentheses a newline does not end a word: zlexer glues the
	// next line's text onto it, and so do we.
	if s.brace == 0 {
		s.flush()
		s.end(i + 1)
	}
}

func (s *scanner) dquote(c byte) {
	if s.escape {
		s.add(c)
		s.escape = false
		return
	}
	s.flush()
	s.begin()
	s.quote = !s.quote
	if s.quote {
		s.inTok, s.tokLine, s.tokOff = true, s.line, s.pos
	} else {
		s.pos++ // the closing quote is part of the word
		s.emit(true)
	}
}

func (s *scanner) paren(c byte) {
	if s.escape || s.quote {
		s.add(c)
		s.escape = false
		return
	}
	s.begin()
	if c == '(' {
		s.brace++
	} else if s.brace > 0 {
		s.brace--
	}
}

// add appends c to the current word, starting a word (and an entry) if
// needed.
func (s *scanner) add(c byte) {
	s.begin()
	if !s.inTok {
		s.inTok, s.tokLine, s.tokOff = true, s.line, s.pos
	}
	s.push(c)
}

// push appends c, the byte at s.pos, to the current word.
func (s *scanner) push(c byte) {
	if len(s.tok) == 0 {
		s.tokStart, s.contig = s.pos, true
	} else if s.pos != s.tokStart+len(s.tok) {
		s.contig = false
	}
	s.tok = append(s.tok, c)
}

// begin opens an entry at the current line if none is open.
func (s *scanner) begin() {
	if !s.open {
		s.cur = entry{first: s.line, off0: s.lineOff, indented: s.blank, tokAt: len(s.toks)}
		s.open = true
	}
}

// flush ends an unquoted word.
func (s *scanner) flush() {
	if s.inTok && !s.quote {
		s.emit(false)
	}
}

func (s *scanner) emit(quoted bool) {
	text := ""
	if n := len(s.tok); n > 0 && s.contig {
		text = s.src[s.tokStart : s.tokStart+n]
	} else if n > 0 {
		text = string(s.tok)
	}
	s.toks = append(s.toks, token{text: text, quoted: quoted, line: s.tokLine, off0: s.tokOff, off1: s.pos})
	s.tok, s.inTok = s.tok[:0], false
}

// end closes the open entry, which ends just before offset off.
func (s *scanner) end(off int) {
	if !s.open {
		return
	}
	if s.quote { // an unterminated string runs to the end of the input
		s.emit(true)
		s.quote = false
	}
	s.cur.last, s.cur.off1 = s.line, off
	// The entry's words are the last ones appended; capped, so that no
	// append to one entry's words can write over the next entry's.
	s.cur.toks = s.toks[s.cur.tokAt:len(s.toks):len(s.toks)]
	s.out = append(s.out, s.cur)
	if len(s.cur.toks) > 0 && s.cur.directive() == "" {
		s.records++
	}
	s.open = false
}

// entryAt returns the index of the entry holding byte offset off, or -1.
func entryAt(es []entry, off int) int {
	i := sort.Search(len(es), func(i int) bool { return es[i].off1 > off })
	if i < len(es) && es[i].off0 <= off {
		return i
	}
	return -1
}

// entryFrom returns the index of the first entry that ends after off.
func entryFrom(es []entry, off int) int {
	return sort.Search(len(es), func(i int) bool { return es[i].off1 > off })
}

// entryAtLine returns the index of the entry covering line, else the first
// entry after it, else the last entry; -1 when there are none.
func entryAtLine(es []entry, line int) int {
	i := sort.Search(len(es), func(i int) bool { return es[i].last >= line })
	if i < len(es) {
		return i
	}
	return len(es) - 1
}
