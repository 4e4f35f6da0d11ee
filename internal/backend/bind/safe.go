package bind

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend/zonefile"
	"github.com/dadns/dadns/internal/zone"
)

// safe says whether named loads z whenever dadns accepted it, so that the
// zone can reach named without a named-checkconf run first. dadns's
// parser and canonical form already enforce what named checks for the
// record types allowed here (one CNAME per name and none beside other
// data or at the apex, one TTL per RRset, no out-of-zone data, names,
// strings and addresses well formed); on top of that, named's integrity
// checks for a primary zone are met:
//
//   - the apex has NS records, and every name server inside the zone has
//     an A or AAAA record of its own (not a CNAME, not a wildcard match);
//   - every MX and SRV target inside the zone has an A or AAAA record
//     (named only warns about these, but a conservative rule costs a
//     check run at most);
//   - no NS record below the apex: no delegation, so no glue or occluded
//     data to check;
//   - CAA tags are letters and digits.
//
// Any other type (DNAME, SVCB/HTTPS, DNSSEC types, TLSA, NAPTR, ...) makes
// the zone unsafe: it is checked as before. So does configuration that
// turns warnings into refusals (check_names other than ignore, the
// max_records_per_type and max_types_per_name limits): see
// Backend.needsCheck.
func safe(z *zone.Zone) bool {
	apex := strings.ToLower(z.Name.FQDN())
	addr := map[string]bool{}
	var targets []string
	apexNS := false
	for _, rr := range z.RRs() {
		owner := strings.ToLower(rr.Header().Name)
		switch r := rr.(type) {
		case *dns.A, *dns.AAAA:
			addr[owner] = true
		case *dns.NS:
			if owner != apex {
				return false
			}
			apexNS = true
			targets = append(targets, r.Ns)
		case *dns.MX:
			targets = append(targets, r.Mx)
		case *dns.SRV:
			targets = append(targets, r.Target)
		case *dns.SOA, *dns.TXT, *dns.SPF, *dns.CNAME, *dns.PTR:
		case *dns.CAA:
			if !zonefile.CAATag(r.Tag) {
				return false
			}
		default:
			return false
		}
	}
	if !apexNS {
		return false
	}
	for _, t := range targets {
		t = strings.ToLower(t)
		if dns.IsSubDomain(apex, t) && !addr[t] {
			return false
		}
	}
	return true
}
