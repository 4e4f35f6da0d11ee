package dnsserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// catalogState is what the catalog zone was last built from.
type catalogState struct {
	serial uint32
	built  bool
}

// memberLabel is a member zone's unique ID in the catalog: derived from
// its name, so a zone keeps its label for life, on every node and across
// restarts (RFC 9432 section 4.1).
func memberLabel(origin string) string {
	sum := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(sum[:8])
}

// buildCatalog returns the catalog zone (RFC 9432, version 2) listing
// members, with a serial newer than any it had before.
func (x *xfr) buildCatalog(members []string) *Zone {
	name := x.opt.Catalog
	serial := uint32(time.Now().Unix())
	if x.cat.built && !serialNewer(serial, x.cat.serial) {
		serial = x.cat.serial + 1
	}
	x.cat.serial, x.cat.built = serial, true
	sort.Strings(members)
	rrs := make([]dns.RR, 0, len(members)+3)
	rrs = append(rrs,
		&dns.SOA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET},
			Ns: "invalid.", Mbox: "invalid.", Serial: serial, Refresh: 3600, Retry: 600, Expire: 2419200, Minttl: 0},
		&dns.NS{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNS, Class: dns.ClassINET}, Ns: "invalid."},
		&dns.TXT{Hdr: dns.RR_Header{Name: "version." + name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{"2"}},
	)
	var groups map[string]string
	if x.opt.Groups != nil {
		groups = x.opt.Groups(members)
	}
	for _, m := range members {
		id := memberLabel(m) + ".zones." + name
		rrs = append(rrs, &dns.PTR{Hdr: dns.RR_Header{Name: id, Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: m})
		if g := groups[m]; g != "" {
			rrs = append(rrs, &dns.TXT{Hdr: dns.RR_Header{Name: "group." + id, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{g}})
		}
	}
	return &Zone{Origin: name, Hash: fmt.Sprintf("catalog-%d", serial), RRs: rrs}
}

// isCatalog reports whether origin is the catalog zone.
func (x *xfr) isCatalog(origin string) bool {
	return x != nil && x.opt.Catalog != "" && strings.EqualFold(origin, x.opt.Catalog)
}
