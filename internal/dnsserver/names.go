package dnsserver

import (
	"bytes"
	"strings"

	"github.com/miekg/dns"
)

// lower returns the lower-case form of an absolute name. strings.ToLower
// returns s itself when there is nothing to change, so the common case
// does not allocate.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// canon returns a name from zone data in the form query names take after
// unpacking: lower-case, with miekg/dns's escaping. Zone files may spell
// a character as \DDD where an unpacked query has the character itself;
// the round trip through wire form settles that. Names without a
// backslash are only lower-cased.
func canon(s string) string {
	if !strings.Contains(s, `\`) {
		return lower(s)
	}
	var buf [256]byte
	n, err := dns.PackDomainName(s, buf[:], 0, nil, false)
	if err != nil {
		return lower(s)
	}
	name, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return lower(s)
	}
	return lower(name)
}

// parentName returns name without its first label ("." for a single-label
// name). It honours escaped dots inside labels.
func parentName(name string) (string, bool) {
	off, end := dns.NextLabel(name, 0)
	if end {
		return "", false
	}
	return name[off:], true
}

// isBelow reports whether child is origin or a name under it. Both are
// lower-case and absolute.
func isBelow(child, origin string) bool {
	if origin == "." {
		return true
	}
	if !strings.HasSuffix(child, origin) {
		return false
	}
	n := len(child) - len(origin)
	return n == 0 || (child[n-1] == '.' && !escapedAt(child, n-1))
}

// escapedAt reports whether the byte at i is escaped by an odd run of
// backslashes before it.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// wildcardOf returns "*." + name.
func wildcardOf(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + name
}

// canonicalKey turns a name into a byte string whose bytewise order is the
// canonical DNS name order of RFC 4034 section 6.1: labels from the right,
// each lower-cased, compared as unsigned octets, a shorter label first.
func canonicalKey(name string) []byte {
	labels := dns.SplitDomainName(name)
	var b bytes.Buffer
	for i := len(labels) - 1; i >= 0; i-- {
		for _, c := range unescapeLabel(labels[i]) {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			// Shift every octet up by one so that the separator 0 sorts
			// before any label octet: "a" < "a.b" becomes "a\0" < "a\0b\0"
			// only if a label end compares lower than any octet.
			b.WriteByte(1)
			b.WriteByte(c)
		}
		b.WriteByte(0)
	}
	return b.Bytes()
}

// unescapeLabel decodes the presentation escapes (\DDD and \X) of a label.
func unescapeLabel(l string) []byte {
	out := make([]byte, 0, len(l))
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c != '\\' || i+1 >= len(l) {
			out = append(out, c)
			continue
		}
		if i+3 < len(l) && isDigit(l[i+1]) && isDigit(l[i+2]) && isDigit(l[i+3]) {
			out = append(out, (l[i+1]-'0')*100+(l[i+2]-'0')*10+(l[i+3]-'0'))
			i += 3
			continue
		}
		out = append(out, l[i+1])
		i++
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
