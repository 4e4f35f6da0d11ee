// Package iscconf reads ISC configuration text (named.conf, rndc.conf,
// rndc.key) at the token level: words, quoted strings and the
// punctuation { } ;, with comments in the three styles named accepts
// (#, // and /* */) dropped. The bind backend's control channel client
// and the importer's named.conf reader both build on it.
package iscconf

import (
	"fmt"
	"strings"
)

// Token is one word or quoted string, or one of { } ;.
type Token struct {
	Text   string
	Quoted bool
	Line   int // 1-based line it starts on
}

// Punct reports whether t is the punctuation c (not a quoted "{").
func (t Token) Punct(c string) bool { return !t.Quoted && t.Text == c }

// Error is a syntax error and the line it is on.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Lex splits text into tokens. Inside a quoted string a backslash takes
// the next character as it is. A word ends at white space, punctuation,
// a quote or the start of a comment.
func Lex(text string) ([]Token, error) {
	var toks []Token
	line := 1
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(text[i:], "//"):
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return nil, &Error{line, "comment not closed"}
			}
			line += strings.Count(text[i:i+2+end], "\n")
			i += end + 4
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, Token{Text: string(c), Line: line})
			i++
		case c == '"':
			var b strings.Builder
			start := line
			for i++; ; i++ {
				if i >= len(text) {
					return nil, &Error{start, "string not closed"}
				}
				if text[i] == '"' {
					i++
					break
				}
				if text[i] == '\\' && i+1 < len(text) {
					i++
				}
				if text[i] == '\n' {
					line++
				}
				b.WriteByte(text[i])
			}
			toks = append(toks, Token{Text: b.String(), Quoted: true, Line: start})
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n{};\"#", rune(text[j])) &&
				!strings.HasPrefix(text[j:], "//") && !strings.HasPrefix(text[j:], "/*") {
				j++
			}
			toks = append(toks, Token{Text: text[i:j], Line: line})
			i = j
		}
	}
	return toks, nil
}
