package zone

import (
	"errors"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// The zone parser (miekg/dns) refuses some records that named loads. Before
// parsing, rewriteForms puts each such record in a form the parser reads
// with the same meaning, on the same lines (so that line numbers in
// problems stay right):
//
//   - NAPTR flags, services or regexp written without quotes get quotes;
//   - LOC with minutes but no seconds gets "0" seconds;
//   - SVCB/HTTPS "keyN" for a key the parser knows by name is read, as
//     named reads it, as the raw value of key N (svcb.go);
//   - APL without any item gets the generic empty RDATA "\# 0";
//   - IPSECKEY, whose parser reads on into the next line, is parsed alone
//     and given in RFC 3597 generic form;
//   - WKS, which the parser does not know, is encoded here into RFC 3597
//     generic form (TYPE11).

// edit replaces text[off0:off1].
type edit struct {
	off0, off1 int
	text       string
}

// rewriteForms applies the rewrites above. A record that cannot be
// rewritten (a bad WKS service, say) is reported and blanked.
func (p *parser) rewriteForms() {
	var edits []edit
	origin := p.origin.FQDN()
	for i := range p.entries {
		e := &p.entries[i]
		if e.directive() == "$ORIGIN" && !e.indented {
			origin = nextOrigin(origin, e.arg(0))
			continue
		}
		if e.directive() != "" {
			continue
		}
		sh, ok := e.shape()
		if !ok {
			continue
		}
		es, err := p.entryEdits(e, sh, origin)
		if err != nil {
			p.problems.add(e.first, sh.typ+" record: "+err.Error())
			es = []edit{{e.off0, e.off1, keepNewlines("", p.text[e.off0:e.off1])}}
		}
		edits = append(edits, es...)
	}
	if len(edits) == 0 {
		return
	}
	p.text = applyEdits(p.text, edits)
	p.entries = scanEntries(p.text)
}

// applyEdits returns text with the edits (in offset order, not
// overlapping) made, in one pass.
func applyEdits(text []byte, edits []edit) []byte {
	out := make([]byte, 0, len(text)+len(edits)*8)
	at := 0
	for _, ed := range edits {
		out = append(out, text[at:ed.off0]...)
		out = append(out, ed.text...)
		at = ed.off1
	}
	return append(out, text[at:]...)
}

// nextOrigin follows an $ORIGIN line.
func nextOrigin(cur, arg string) string {
	if arg == "" || arg == "@" {
		return cur
	}
	if dns.IsFqdn(arg) {
		return arg
	}
	return arg + "." + cur
}

// entryEdits returns the edits one record entry needs (none for most).
func (p *parser) entryEdits(e *entry, sh shape, origin string) ([]edit, error) {
	rd := e.rdata(sh)
	switch sh.typ {
	case "NAPTR":
		return quoteNAPTR(rd), nil
	case "LOC":
		return locSeconds(rd), nil
	case "SVCB", "HTTPS":
		return svcbKeyEdits(rd), nil
	case "APL":
		if len(rd) == 0 {
			t := e.toks[sh.typeAt]
			return []edit{{t.off1, t.off1, ` \# 0`}}, nil
		}
	case "IPSECKEY":
		return p.genericEdit(e, sh, func() (string, error) { return ipseckeyGeneric(p.text[e.toks[sh.typeAt].off1:e.off1], origin) })
	case "WKS":
		return p.genericEdit(e, sh, func() (string, error) { return wksGeneric(rd) })
	}
	return nil, nil
}

// genericEdit replaces everything from the type to the end of the entry
// with what gen returns, keeping the entry's newlines.
func (p *parser) genericEdit(e *entry, sh shape, gen func() (string, error)) ([]edit, error) {
	if len(e.rdata(sh)) > 0 && e.rdata(sh)[0].text == `\#` {
		return nil, nil // already generic
	}
	g, err := gen()
	if err != nil {
		return nil, err
	}
	from := e.toks[sh.typeAt].off0
	return []edit{{from, e.off1, keepNewlines(g, p.text[from:e.off1])}}, nil
}

// keepNewlines returns s followed by as many newlines as old has more.
func keepNewlines(s string, old []byte) string {
	n := strings.Count(string(old), "\n") - strings.Count(s, "\n")
	return s + strings.Repeat("\n", max(n, 0))
}

// quoteNAPTR quotes the flags, services and regexp fields when written
// bare, as named accepts them.
func quoteNAPTR(rd []token) []edit {
	if len(rd) != 6 {
		return nil
	}
	var out []edit
	for _, t := range rd[2:5] {
		if !t.quoted {
			out = append(out, edit{t.off0, t.off0, `"`}, edit{t.off1, t.off1, `"`})
		}
	}
	return out
}

// locSeconds adds "0" seconds to a latitude or longitude written with
// degrees and minutes only.
func locSeconds(rd []token) []edit {
	var out []edit
	nums := 0
	for i, t := range rd {
		switch strings.ToUpper(t.text) {
		case "N", "S", "E", "W":
			if nums == 2 {
				out = append(out, edit{rd[i-1].off1, rd[i-1].off1, " 0"})
			}
			nums = 0
		default:
			nums++
		}
	}
	return out
}

// rdataHex returns the RDATA of rr in the form "\# len hex".
func rdataHex(rr dns.RR) (string, error) {
	var g dns.RFC3597
	if err := g.ToRFC3597(rr); err != nil {
		return "", err
	}
	return `\# ` + strconv.Itoa(len(g.Rdata)/2) + " " + g.Rdata, nil
}

// ipseckeyGeneric parses the RDATA of an IPSECKEY alone, where the
// parser's bug (it reads the next line as part of the record) cannot
// bite, and returns it in generic form.
func ipseckeyGeneric(rdata []byte, origin string) (string, error) {
	zp := dns.NewZoneParser(strings.NewReader(". 0 IN IPSECKEY "+string(rdata)), origin, "")
	zp.SetIncludeAllowed(false)
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil || !ok {
		if err == nil {
			err = errors.New("no data")
		}
		msg, _, _ := describeParseError(err)
		return "", errors.New(msg)
	}
	if k, ok := rr.(*dns.IPSECKEY); ok && k.PublicKey == "" {
		return "", errors.New("no public key (named refuses it too)")
	}
	g, err := rdataHex(rr)
	if err != nil {
		return "", err
	}
	return "IPSECKEY " + g, nil
}
