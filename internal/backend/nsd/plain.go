package nsd

import (
	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/zone"
)

// plain says whether NSD loads z whenever dadns accepted it: every record
// is of a type whose rules dadns's parser and canonical form enforce as
// strictly as NSD does (one CNAME per name and none beside other data or
// at the apex, one TTL per RRset, no out-of-zone data, names, strings and
// addresses well formed), and CAA tags are letters and digits as NSD
// requires. Other types (DNAME, SVCB/HTTPS, DNSSEC, TLSA, ...) carry rules
// of NSD's own that dadns does not repeat: a zone NSD serves that holds
// one is checked with nsd-checkzone before its new file is installed.
func plain(z *zone.Zone) bool {
	for _, rr := range z.RRs() {
		switch r := rr.(type) {
		case *dns.SOA, *dns.NS, *dns.A, *dns.AAAA, *dns.MX, *dns.TXT, *dns.SPF, *dns.CNAME, *dns.SRV, *dns.PTR:
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
