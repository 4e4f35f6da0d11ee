package zone

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Build makes a zone from records, as a backend that stores rows reads one
// back. It applies the same validation and canonical form as Parse; the
// line of a problem is the 1-based index of the record in recs.
func Build(origin Name, recs []Record, lim Limits) (*Zone, error) {
	if err := checkOrigin(origin); err != nil {
		return nil, err
	}
	var b strings.Builder
	var bad problemList
	for i, r := range recs {
		if msg := badFields(r); msg != "" {
			bad.add(i+1, msg)
			b.WriteByte('\n') // keep line i+1 for record i
			continue
		}
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	z, err := Parse(origin, []byte(b.String()), lim)
	if len(bad.list) == 0 {
		return z, err
	}
	bad.list = append(bad.list, Problems(err)...)
	return nil, &Error{Zone: origin, Problems: bad.sorted(maxProblems, "errors")}
}

// badFields refuses a record whose fields would not stay on their own line
// or would read as a directive.
func badFields(r Record) string {
	switch {
	case r.Name == "" || strings.HasPrefix(r.Name, "$") || strings.ContainsAny(r.Name, " \t\r\n;()\""):
		return "invalid owner name " + quoteShort(r.Name, 80)
	case r.Type == "" || strings.IndexFunc(r.Type, notAlnum) >= 0:
		return "invalid type " + quoteShort(r.Type, 20)
	case strings.ContainsAny(r.Data, "\r\n"):
		return "record data spans lines"
	}
	return ""
}

func notAlnum(c rune) bool {
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
}

// zone assembles the accepted records in canonical order.
func (p *parser) zone(recs []rec) *Zone {
	keys := make([]string, len(recs))
	for i := range recs {
		keys[i] = canonicalKey(recs[i].Name)
	}
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return compareRecs(&recs[a], &recs[b], keys[a], keys[b]) })
	z := &Zone{Name: p.origin, Records: make([]Record, len(recs)), rrs: make([]dns.RR, len(recs))}
	size := 0
	for i := range recs {
		size += len(recs[i].Name) + len(recs[i].Type) + len(recs[i].Data) + 20
	}
	text := make([]byte, 0, size)
	for i, j := range idx {
		z.Records[i], z.rrs[i] = recs[j].Record, recs[j].rr
		text = recs[j].Record.appendLine(text)
		if soa, ok := recs[j].rr.(*dns.SOA); ok {
			z.Serial = soa.Serial
		}
	}
	z.text = string(text)
	sum := sha256.Sum256(text)
	z.hash = hex.EncodeToString(sum[:])
	if len(p.warnings.list) > 0 {
		z.Warnings = p.warnings.sorted(maxWarnings, "warnings")
	}
	return z
}

// compareRecs orders SOA first, then owners in DNS canonical order, then
// type number, then data.
func compareRecs(a, b *rec, ka, kb string) int {
	sa, sb := a.rr.Header().Rrtype == dns.TypeSOA, b.rr.Header().Rrtype == dns.TypeSOA
	if sa != sb {
		if sa {
			return -1
		}
		return 1
	}
	if c := strings.Compare(ka, kb); c != 0 {
		return c
	}
	if c := cmp.Compare(a.rr.Header().Rrtype, b.rr.Header().Rrtype); c != 0 {
		return c
	}
	return strings.Compare(a.Data, b.Data)
}

// canonicalKey turns an owner into a string whose byte order is the DNS
// canonical order (RFC 4034 §6.1): labels reversed, joined by a byte that
// sorts below every byte an owner label may hold. Owners are lower-case and
// free of escapes, so plain byte comparison of labels is exact.
func canonicalKey(owner string) string {
	owner = strings.TrimSuffix(owner, ".")
	b := make([]byte, 0, len(owner))
	for end := len(owner); ; {
		dot := strings.LastIndexByte(owner[:end], '.')
		b = append(b, owner[dot+1:end]...)
		if dot < 0 {
			break
		}
		b = append(b, 0)
		end = dot
	}
	return string(b)
}
