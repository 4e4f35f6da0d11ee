package zone

import "github.com/miekg/dns"

// unifyTTLs gives every record of an RRset the TTL of its first record, as
// BIND does. RRSIGs form one RRset per covered type.
func (p *parser) unifyTTLs(recs []rec) {
	type first struct {
		ttl  uint32
		line int
	}
	seen := make(map[setKey]first, len(recs))
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

// setKey names an RRset: owner, type, and for RRSIGs the type covered.
type setKey struct {
	name, typ string
	covered   uint16
}

func rrsetKey(r *rec) setKey {
	k := setKey{name: r.Name, typ: r.Type}
	if sig, ok := r.rr.(*dns.RRSIG); ok {
		k.covered = sig.TypeCovered
	}
	return k
}

// dedup removes exact duplicates, keeping the first.
func dedup(recs []rec) []rec {
	type key struct{ name, typ, data string }
	seen := make(map[key]bool, len(recs))
	out := recs[:0]
	for _, r := range recs {
		k := key{r.Name, r.Type, r.Data}
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}
