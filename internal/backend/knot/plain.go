package knot

import (
	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/zone"
)

// plain says whether knotd loads z whenever dadns accepted it, so a new
// zone can reach knotd without a "knotc zone-check" run first: every
// record is of a type whose rules dadns's parser and canonical form
// enforce as strictly as knotd's mandatory checks do (one CNAME per name
// and none beside other data, one TTL per RRset, no out-of-zone data,
// well-formed names, strings and addresses), CAA tags are letters and
// digits, and no NS record stands below the apex (no delegation). Other
// types (DNAME, DS, SVCB/HTTPS, DNSSEC types, TLSA, ...) carry rules of
// knotd's own: a zone holding one is checked as before.
func plain(z *zone.Zone) bool {
	apex := z.Name.FQDN()
	for _, rr := range z.RRs() {
		switch r := rr.(type) {
		case *dns.SOA, *dns.A, *dns.AAAA, *dns.MX, *dns.TXT, *dns.SPF, *dns.CNAME, *dns.SRV, *dns.PTR:
		case *dns.NS:
			if !equalFold(r.Hdr.Name, apex) {
				return false
			}
		case *dns.CAA:
			if !alnum(r.Tag) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
