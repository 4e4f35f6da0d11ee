package zone

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	maxLabelLen = 63
	maxNameLen  = 253
)

// ParseName validates and normalizes s (case-folded, one trailing dot
// stripped). It refuses '/', '\\', quotes, spaces, control characters,
// empty labels ("..", leading dot), labels over 63 octets, names over 253
// octets and anything outside [a-z0-9-_] in a label.
func ParseName(s string) (Name, error) {
	if s == "" {
		return "", nameError(s, "empty name")
	}
	if s == "." {
		return "", nameError(s, "the root is not a zone name")
	}
	if msg := badNameChar(s); msg != "" {
		return "", nameError(s, msg)
	}
	n := strings.ToLower(strings.TrimSuffix(s, "."))
	if len(n) > maxNameLen {
		return "", nameError(s, fmt.Sprintf("name is %d octets long, the limit is %d", len(n), maxNameLen))
	}
	for _, label := range strings.Split(n, ".") {
		if msg := badLabel(label); msg != "" {
			return "", nameError(s, msg)
		}
	}
	return Name(n), nil
}

// badNameChar names the first character of s that can never appear in a
// zone name, or returns "".
func badNameChar(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return "non-ASCII character"
		case c < 0x20 || c == 0x7f:
			return fmt.Sprintf("control character %q", c)
		case c == ' ':
			return "space"
		case c == '/', c == '\\', c == '"', c == '\'':
			return fmt.Sprintf("character %q", c)
		}
	}
	return ""
}

// badLabel explains why one label of a (lower-cased) name is invalid, or
// returns "".
func badLabel(label string) string {
	if label == "" {
		return "empty label (leading dot or \"..\")"
	}
	if len(label) > maxLabelLen {
		return fmt.Sprintf("label of %d octets, the limit is %d", len(label), maxLabelLen)
	}
	for i := 0; i < len(label); i++ {
		if !isNameByte(label[i]) {
			return fmt.Sprintf("character %q (allowed: a-z 0-9 - _)", label[i])
		}
	}
	return ""
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// nameError builds the error for a refused name; the name is quoted and
// shortened so that hostile input cannot flood a log line.
func nameError(s, msg string) error {
	return fmt.Errorf("zone: parse name %s: %s", quoteShort(s, 80), msg)
}

// quoteShort quotes s in ASCII, cut to at most limit input bytes.
func quoteShort(s string, limit int) string {
	if len(s) > limit {
		return strconv.QuoteToASCII(s[:limit]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// Parent returns the name with its first label removed, and false when n has
// only one label.
func (n Name) Parent() (Name, bool) {
	i := strings.IndexByte(string(n), '.')
	if i < 0 {
		return "", false
	}
	return n[i+1:], true
}

// IsSubdomainOf reports whether n is parent or a name below it.
func (n Name) IsSubdomainOf(parent Name) bool {
	if parent == "" || n == "" {
		return false
	}
	return n == parent || strings.HasSuffix(string(n), "."+string(parent))
}
