package zone

import (
	"math"
	"strings"

	"github.com/miekg/dns"
)

// shape is what the words of a record entry say before its RDATA:
// where the type is and whether a TTL was written.
type shape struct {
	start  int    // index of the first word after the owner
	typeAt int    // index of the type word
	typ    string // the type word, upper-cased
	ttl    uint32
	hasTTL bool
}

// shape reads a record entry ($GENERATE included: its owner template is
// its third word). It returns false for other directives and for entries
// too short to hold a type, which the parser reports itself.
func (e *entry) shape() (shape, bool) {
	var sh shape
	switch e.directive() {
	case "":
		if !e.indented {
			sh.start = 1
		}
	case "$GENERATE":
		sh.start = 3
	default:
		return shape{}, false
	}
	for i := sh.start; i < len(e.toks) && i <= sh.start+2; i++ {
		tk := e.toks[i]
		if tk.quoted {
			return shape{}, false
		}
		if v, ok := ttlValue(tk.text); ok && !sh.hasTTL {
			sh.ttl, sh.hasTTL = v, true
			continue
		}
		if isClassWord(tk.text) {
			continue
		}
		sh.typeAt, sh.typ = i, strings.ToUpper(tk.text)
		return sh, true
	}
	return shape{}, false
}

// rdata returns the words after the type.
func (e *entry) rdata(sh shape) []token { return e.toks[sh.typeAt+1:] }

// ttlValue reads a TTL as the zone parser does: digits, optionally in
// units (1h30m); false when the word is not one.
func ttlValue(s string) (uint32, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	var total, cur uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		mult := uint64(0)
		switch c | 0x20 {
		case 's':
			mult = 1
		case 'm':
			mult = 60
		case 'h':
			mult = 3600
		case 'd':
			mult = 86400
		case 'w':
			mult = 604800
		default:
			if c < '0' || c > '9' {
				return 0, false
			}
			cur = cur*10 + uint64(c-'0')
			if cur > math.MaxUint32 {
				return 0, false
			}
			continue
		}
		total, cur = total+cur*mult, 0
	}
	if total+cur > math.MaxUint32 {
		return 0, false
	}
	return uint32(total + cur), true
}

// isClassWord reports a class mnemonic or CLASSnnn.
func isClassWord(s string) bool {
	u := strings.ToUpper(s)
	if _, ok := dns.StringToClass[u]; ok {
		return true
	}
	return strings.HasPrefix(u, "CLASS") && len(u) > 5 && strings.Trim(u[5:], "0123456789") == ""
}
