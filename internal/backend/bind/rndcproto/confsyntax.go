package rndcproto

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dadns/dadns/internal/iscconf"
)

// token is one word or quoted string of an ISC configuration file, or
// one of the punctuation characters { } ;.
type token struct {
	text   string
	quoted bool
	line   int
}

func (t token) punct(c string) bool { return !t.quoted && t.text == c }

// stmt is one statement: words, an optional { block } and a ';'.
type stmt struct {
	words    []token
	block    []stmt
	hasBlock bool
	file     string
	line     int
}

func (s stmt) name() string { return strings.ToLower(s.words[0].text) }

func (s stmt) where() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

// lex splits ISC configuration text into tokens (internal/iscconf); a
// syntax error names the file and line.
func lex(file, text string) ([]token, error) {
	toks, err := iscconf.Lex(text)
	if err != nil {
		var e *iscconf.Error
		if errors.As(err, &e) {
			return nil, fmt.Errorf("%s:%d: %s", file, e.Line, e.Msg)
		}
		return nil, err
	}
	out := make([]token, len(toks))
	for i, t := range toks {
		out[i] = token{text: t.Text, quoted: t.Quoted, line: t.Line}
	}
	return out, nil
}

// parseStmts reads statements until the tokens end or a '}' closes the
// block (returned position points after it).
func parseStmts(file string, toks []token, pos int, inBlock bool) ([]stmt, int, error) {
	var out []stmt
	for pos < len(toks) {
		if toks[pos].punct("}") {
			if !inBlock {
				return nil, 0, fmt.Errorf("%s:%d: unexpected '}'", file, toks[pos].line)
			}
			return out, pos + 1, nil
		}
		s := stmt{file: file, line: toks[pos].line}
		for pos < len(toks) && !toks[pos].punct(";") && !toks[pos].punct("{") && !toks[pos].punct("}") {
			s.words = append(s.words, toks[pos])
			pos++
		}
		if pos < len(toks) && toks[pos].punct("{") {
			var err error
			s.hasBlock = true
			if s.block, pos, err = parseStmts(file, toks, pos+1, true); err != nil {
				return nil, 0, err
			}
		}
		if pos >= len(toks) || !toks[pos].punct(";") {
			return nil, 0, fmt.Errorf("%s:%d: missing ';'", file, s.line)
		}
		pos++
		if len(s.words) == 0 {
			if s.hasBlock {
				return nil, 0, fmt.Errorf("%s:%d: block without a statement name", file, s.line)
			}
			continue // a stray ';' is allowed
		}
		out = append(out, s)
	}
	if inBlock {
		return nil, 0, fmt.Errorf("%s: '{' not closed", file)
	}
	return out, pos, nil
}

// maxIncludes bounds include nesting (and catches include loops).
const maxIncludes = 8

// parseFile reads file and the files it includes (relative paths are
// taken from the working directory, as rndc's parser does), returning the
// top-level statements in order. Every file read is stamped in files.
func parseFile(path string, files *stamps, depth int) ([]stmt, error) {
	if depth > maxIncludes {
		return nil, fmt.Errorf("%s: includes nested deeper than %d", path, maxIncludes)
	}
	files.add(path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	toks, err := lex(path, string(data))
	if err != nil {
		return nil, err
	}
	stmts, _, err := parseStmts(path, toks, 0, false)
	if err != nil {
		return nil, err
	}
	var out []stmt
	for _, s := range stmts {
		if s.name() != "include" {
			out = append(out, s)
			continue
		}
		if len(s.words) != 2 || s.hasBlock {
			return nil, fmt.Errorf("%s: include takes one file name", s.where())
		}
		inc := s.words[1].text
		if !filepath.IsAbs(inc) {
			wd, err := os.Getwd()
			if err != nil {
				return nil, err
			}
			inc = filepath.Join(wd, inc)
		}
		more, err := parseFile(inc, files, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}
