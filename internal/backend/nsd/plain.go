package nsd

import (
	"github.com/dadns/dadns/internal/backend/zonefile"
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
func plain(z *zone.Zone) bool { return zonefile.PlainTypes(z, true) }
