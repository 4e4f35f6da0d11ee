package zone

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// maxProblems bounds how many problems one refusal lists; maxWarnings bounds
// the warnings kept on an accepted zone.
const (
	maxProblems = 20
	maxWarnings = 100
)

// Error renders every problem: "zone example.com: line 12: msg; line 15: msg".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("zone ")
	b.WriteString(string(e.Zone))
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// String renders the problem as "line 12: msg", or just "msg" when it
// concerns the whole zone.
func (p Problem) String() string {
	if p.Line <= 0 {
		return p.Msg
	}
	return "line " + strconv.Itoa(p.Line) + ": " + p.Msg
}

// Problems returns the problems listed by a refusal from Parse or Build
// (found anywhere in err's chain), or nil when err is not one.
func Problems(err error) []Problem {
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return nil
}

// problemList collects findings and caps them.
type problemList struct {
	list    []Problem
	stopped bool // the search was cut short
}

func (l *problemList) add(line int, msg string) {
	l.list = append(l.list, Problem{Line: line, Msg: msg})
}

func (l *problemList) full() bool { return len(l.list) >= maxProblems }

// sorted returns the findings ordered by line (zone-wide ones first), cut to
// limit with a closing note saying how many were left out.
func (l *problemList) sorted(limit int, what string) []Problem {
	out := append([]Problem(nil), l.list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	switch {
	case len(out) > limit:
		more := len(out) - limit
		out = append(out[:limit], Problem{Msg: "too many " + what + " (" + strconv.Itoa(more) + " more not shown)"})
	case l.stopped:
		out = append(out, Problem{Msg: "too many " + what + "; stopped looking"})
	}
	return out
}

// describeParseError turns a miekg/dns parse error into a message, the
// line it names and the offending word. The word is kept short in the
// message: an error must not echo the zone back.
func describeParseError(err error) (string, int, string) {
	s := strings.TrimPrefix(err.Error(), "dns: ")
	i := strings.LastIndex(s, " at line: ")
	if i < 0 {
		return s, 0, ""
	}
	lineStr, _, _ := strings.Cut(s[i+len(" at line: "):], ":")
	line, _ := strconv.Atoi(lineStr)
	msg, tok := splitQuotedToken(s[:i])
	if better, ok := plainMessages[msg]; ok {
		msg = better
	}
	if strings.TrimSpace(tok) == "" || tok == msg {
		return msg, line, ""
	}
	return msg + ": " + quoteShort(tok, 40), line, tok
}

// plainMessages rewords the zone parser's least clear messages.
var plainMessages = map[string]string{
	"not a TTL": "unknown record type or bad TTL",
	"expecting RR type, TTL or class, not this...": "expected a TTL, class or record type",
	"expecting RR type or class, not this...":      "expected a class or record type",
	"expecting RR type or TTL, not this...":        "expected a TTL or record type",
	"unexpected newline":                           "record without data",
}

// splitQuotedToken splits "cause: \"token\"" at the first ": " whose
// remainder is one complete Go-quoted string.
func splitQuotedToken(s string) (string, string) {
	for off := 0; ; {
		j := strings.Index(s[off:], ": \"")
		if j < 0 {
			return s, ""
		}
		j += off
		if tok, err := strconv.Unquote(s[j+2:]); err == nil {
			return s[:j], tok
		}
		off = j + 1
	}
}
