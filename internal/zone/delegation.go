package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// cuts knows the zone cuts (NS records below the apex) of a zone and the
// names its NS records point at.
type cuts struct {
	apex    string
	at      map[string]bool // owners of delegation NS records
	targets map[string]bool // NS targets of the apex and of effective cuts
}

func findCuts(apex string, recs []rec) *cuts {
	c := &cuts{apex: apex, at: map[string]bool{}, targets: map[string]bool{}}
	for _, r := range recs {
		if r.Type == "NS" && r.Name != apex {
			c.at[r.Name] = true
		}
	}
	for _, r := range recs {
		if ns, ok := r.rr.(*dns.NS); ok && (r.Name == apex || c.above(r.Name) == r.Name) {
			c.targets[ns.Ns] = true
		}
	}
	return c
}

// above returns the highest cut at or above owner, or "" when owner is not
// at or below a delegation. Owners hold no escapes, so cutting at dots is
// exact.
func (c *cuts) above(owner string) string {
	found := ""
	for n := owner; n != c.apex && n != ""; {
		if c.at[n] {
			found = n
		}
		_, rest, ok := strings.Cut(n, ".")
		if !ok {
			break
		}
		n = rest
	}
	return found
}

// dropOccluded removes, with a warning, the records that a delegation hides:
// at a cut only NS, DS, NSEC, RRSIG and glue stay; below it only glue (A or
// AAAA records of names that NS records point at).
func (p *parser) dropOccluded(recs []rec) []rec {
	c := findCuts(p.origin.FQDN(), recs)
	if len(c.at) == 0 {
		return recs
	}
	out := recs[:0]
	for _, r := range recs {
		cut := c.above(r.Name)
		switch {
		case cut == "" || c.keeps(r, cut):
			out = append(out, r)
		case cut == r.Name:
			p.warnings.add(r.line, r.Type+" at the delegation point "+cut+" is hidden by the delegation; record dropped")
		default:
			p.warnings.add(r.line, r.Name+" "+r.Type+" is below the delegation at "+cut+" and not glue; record dropped")
		}
	}
	return out
}

// keeps reports whether r, at or below cut, is served.
func (c *cuts) keeps(r rec, cut string) bool {
	if (r.Type == "A" || r.Type == "AAAA") && c.targets[r.Name] {
		return true
	}
	if r.Name != cut {
		return false
	}
	switch r.Type {
	case "NS", "DS", "NSEC", "RRSIG":
		return true
	}
	return false
}
