package zone

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// maxCharString is the longest character-string RFC 1035 allows.
const maxCharString = 255

// txtTooLong finds a TXT/SPF string longer than 255 octets in the input
// entry of x, returning its line and length (0, 0 when there is none).
// miekg/dns silently splits such a string in two, which would change what
// the user wrote, so the entry's words are checked rather than the record.
func (p *parser) txtTooLong(x parsed) (int, int) {
	t := x.rr.Header().Rrtype
	if x.entry < 0 || x.generated || t != dns.TypeTXT && t != dns.TypeSPF {
		return 0, 0
	}
	rdata := rdataTokens(&p.entries[x.entry])
	if len(rdata) > 0 && !rdata[0].quoted && rdata[0].text == `\#` {
		return 0, 0
	}
	for _, tk := range rdata {
		if n := octets(tk.text); n > maxCharString {
			return tk.line, n
		}
	}
	return 0, 0
}

// rdataTokens returns the words of a record entry after its type.
func rdataTokens(e *entry) []token {
	if i := typeIndex(e); i >= 0 {
		return e.toks[i+1:]
	}
	return nil
}

// typeWord returns the upper-cased type word of a record entry, or "".
func typeWord(e *entry) string {
	if i := typeIndex(e); i >= 0 {
		return strings.ToUpper(e.toks[i].text)
	}
	return ""
}

// typeIndex finds the type among the words of a record entry: the first
// type mnemonic after the owner, or -1.
func typeIndex(e *entry) int {
	first := 0
	if !e.indented {
		first = 1 // the owner
	}
	for i := first; i < len(e.toks); i++ {
		if tk := e.toks[i]; !tk.quoted && isTypeWord(tk.text) {
			return i
		}
	}
	return -1
}

// isTypeWord reports a type mnemonic as zlexer recognizes one. TTLs and
// classes, the only words allowed before the type, never are.
func isTypeWord(w string) bool {
	u := strings.ToUpper(w)
	if _, ok := dns.StringToType[u]; ok {
		return true
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		_, err := strconv.ParseUint(n, 10, 16)
		return err == nil
	}
	return false
}

// octets counts the bytes a presentation-form string stands for: \DDD and
// \X are one byte each.
func octets(s string) int {
	n := 0
	for i := 0; i < len(s); n++ {
		switch {
		case s[i] != '\\':
			i++
		case isDDD(s[i+1:]):
			i += 4
		default:
			i += 2
		}
	}
	return n
}

func isDDD(s string) bool {
	return len(s) >= 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func itoa(n int) string { return strconv.Itoa(n) }

func utoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
