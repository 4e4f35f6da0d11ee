package knot

import (
	"github.com/dadns/dadns/internal/backend/zonefile"
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
func plain(z *zone.Zone) bool { return zonefile.PlainTypes(z, false) }
