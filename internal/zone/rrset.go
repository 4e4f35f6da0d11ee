package zone

import "github.com/miekg/dns"

// unifyTTLs gives every record of an RRset the TTL of its first record, as
// BIND does. RRSIGs form one RRset per covered type.
func (p *parser) unifyTTLs(recs []rec) {
	type first struct {
		ttl  uint32
		line int
	}
	seen := make(map[string]first, len(recs))
	for i := range recs {
		r := &recs[i]
		k := rrsetKey(r)
		f, ok := seen[k]
		if !ok {
			seen[k] = first{r.TTL, r.line}
			continue
		}
		if r.TTL != f.ttl {
			p.warnings.add(r.line, "TTL "+utoa(r.TTL)+" differs from the TTL of the same "+r.Type+" RRset at line "+
				itoa(f.line)+"; using "+utoa(f.ttl))
			r.TTL = f.ttl
			r.rr.Header().Ttl = f.ttl
		}
	}
}

func rrsetKey(r *rec) string {
	k := r.Name + "\x00" + r.Type
	if sig, ok := r.rr.(*dns.RRSIG); ok {
		k += "\x00" + dns.Type(sig.TypeCovered).String()
	}
	return k
}

// dedup removes exact duplicates, keeping the first.
func dedup(recs []rec) []rec {
	seen := make(map[string]bool, len(recs))
	out := recs[:0]
	for _, r := range recs {
		k := r.Name + "\t" + r.Type + "\t" + r.Data
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}
