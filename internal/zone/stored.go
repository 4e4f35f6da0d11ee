package zone

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// FromCanonical rebuilds a zone from its own canonical text (Text of a
// zone Parse accepted, as the store keeps it) without validating it again:
// one pass of the record parser instead of Parse's several per record,
// which is what lets a restart load thousands of zones quickly. The text
// must hash to hash; anything that does not read back as canonical text
// (a line that is not one record, records out of order) is an error, and
// the caller should fall back to Parse.
func FromCanonical(origin Name, text, hash string) (*Zone, error) {
	sum := sha256.Sum256([]byte(text))
	if hex.EncodeToString(sum[:]) != hash {
		return nil, fmt.Errorf("zone %s: stored text does not hash to its recorded hash", origin)
	}
	z := &Zone{Name: origin, text: text, hash: hash}
	n := strings.Count(text, "\n")
	z.Records, z.rrs = make([]Record, 0, n), make([]dns.RR, 0, n)
	next := zoneRecords(origin, text)
	if strings.Contains(text, "\tIPSECKEY\t") {
		// The zone parser reads on past an IPSECKEY line; read each line
		// on its own.
		next = lineRecords(text)
	}
	rest := text
	for rr, err := range next {
		if err != nil {
			return nil, fmt.Errorf("zone %s: canonical text: %w", origin, err)
		}
		line, after, found := strings.Cut(rest, "\n")
		if !found {
			return nil, fmt.Errorf("zone %s: canonical text: record %d has no line", origin, len(z.rrs)+1)
		}
		rest = after
		r, err := canonicalLine(line)
		if err != nil {
			return nil, fmt.Errorf("zone %s: canonical text line %d: %w", origin, len(z.rrs)+1, err)
		}
		if soa, ok := rr.(*dns.SOA); ok {
			z.Serial = soa.Serial
		}
		lowerNames(rr)
		z.Records, z.rrs = append(z.Records, r), append(z.rrs, genericForm(rr))
	}
	if rest != "" || len(z.rrs) == 0 {
		return nil, fmt.Errorf("zone %s: canonical text does not hold one record per line", origin)
	}
	return z, nil
}

// zoneRecords yields the records of text read by one zone parser, then
// its error if it stopped on one.
func zoneRecords(origin Name, text string) iter.Seq2[dns.RR, error] {
	return func(yield func(dns.RR, error) bool) {
		zp := dns.NewZoneParser(strings.NewReader(text), origin.FQDN(), "")
		zp.SetIncludeAllowed(false)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			if !yield(rr, nil) {
				return
			}
		}
		if err := zp.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// lineRecords yields the record of each line of text, read alone.
func lineRecords(text string) iter.Seq2[dns.RR, error] {
	return func(yield func(dns.RR, error) bool) {
		for line := range strings.Lines(text) {
			rr, err := dns.NewRR(line)
			if err == nil && rr == nil {
				err = errors.New("empty line")
			}
			if !yield(rr, err) || err != nil {
				return
			}
		}
	}
}

// canonicalLine splits one line of Text back into its Record.
func canonicalLine(line string) (Record, error) {
	f := strings.SplitN(line, "\t", 5)
	if len(f) < 5 || f[2] != "IN" {
		return Record{}, errors.New("not a canonical record line")
	}
	ttl, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return Record{}, errors.New("bad TTL")
	}
	return Record{Name: f[0], TTL: uint32(ttl), Type: f[3], Data: f[4]}, nil
}

// FromRRs rebuilds a zone from its records as RRs returned them (in that
// order), possibly after a trip through wire format: a server that keeps
// zones packed gives them back this way. The records must make the
// canonical text that hashes to hash.
func FromRRs(origin Name, rrs []dns.RR, hash string) (*Zone, error) {
	var b strings.Builder
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		lowerNames(rr)
		// As keep does: the fields of the record's text, class IN (the
		// generic form prints it as CLASS1).
		f := strings.SplitN(genericForm(rr).String(), "\t", 5)
		if len(f) < 5 {
			return nil, fmt.Errorf("zone %s: record %s cannot be written in canonical form", origin, rr)
		}
		b.WriteString(Record{Name: f[0], TTL: rr.Header().Ttl, Type: f[3], Data: f[4]}.String())
		b.WriteByte('\n')
	}
	return FromCanonical(origin, b.String(), hash)
}
