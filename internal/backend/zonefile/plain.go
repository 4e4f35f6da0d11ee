package zonefile

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/zone"
)

// PlainTypes reports whether every record of z is of a type whose rules
// dadns's parser and canonical form enforce as strictly as named, NSD and
// knotd do (one CNAME per name and none beside other data, one TTL per
// RRset, no out-of-zone data, well-formed names, strings and addresses):
// SOA, NS, A, AAAA, MX, TXT, SPF, CNAME, SRV, PTR, and CAA with a tag of
// letters and digits (CAATag). Unless delegations is true, an NS record
// below the apex makes the zone not plain either. Other types (DNAME,
// DS, SVCB/HTTPS, DNSSEC types, TLSA, ...) carry rules of each daemon's
// own, which dadns does not repeat.
func PlainTypes(z *zone.Zone, delegations bool) bool {
	apex := z.Name.FQDN()
	for _, rr := range z.RRs() {
		switch r := rr.(type) {
		case *dns.SOA, *dns.A, *dns.AAAA, *dns.MX, *dns.TXT, *dns.SPF, *dns.CNAME, *dns.SRV, *dns.PTR:
		case *dns.NS:
			if !delegations && !strings.EqualFold(r.Hdr.Name, apex) {
				return false
			}
		case *dns.CAA:
			if !CAATag(r.Tag) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// CAATag reports whether a CAA tag is letters and digits only (RFC 8659),
// as named, NSD and knotd require.
func CAATag(tag string) bool {
	if tag == "" {
		return false
	}
	for _, c := range []byte(tag) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
