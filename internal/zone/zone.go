// Package zone parses, validates and canonicalizes the zone files DirectAdmin
// pushes. It is the only place (with dnsserver) that knows miekg/dns; the rest
// of dadns sees Name, Record and Zone.
package zone

import (
	"strconv"

	"github.com/miekg/dns"
)

// Name is a validated zone or owner name: lower-case, no trailing dot,
// LDH/underscore labels, at most 253 octets. The zero value is invalid.
type Name string

// FQDN returns the name with a trailing dot ("example.com.").
func (n Name) FQDN() string { return string(n) + "." }

// String returns the name without the trailing dot.
func (n Name) String() string { return string(n) }

// Record is one resource record in canonical form.
type Record struct {
	Name string // absolute owner, lower-case, trailing dot: "www.example.com."
	TTL  uint32 // one TTL per RRset (the first one seen, as BIND does)
	Type string // mnemonic as miekg/dns prints it: "A", "TXT", "TYPE65534"
	Data string // RDATA in presentation form, every name absolute (rr.String() minus the header)
}

// String returns the record as one canonical zone-file line (no newline):
// "name\tttl\tIN\ttype\tdata".
func (r Record) String() string {
	b := r.appendLine(make([]byte, 0, len(r.Name)+len(r.Type)+len(r.Data)+20))
	return string(b[:len(b)-1])
}

// appendLine appends r as one line of a zone's Text, newline included.
func (r Record) appendLine(b []byte) []byte {
	b = append(b, r.Name...)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(r.TTL), 10)
	b = append(b, "\tIN\t"...)
	b = append(b, r.Type...)
	b = append(b, '\t')
	b = append(b, r.Data...)
	return append(b, '\n')
}

// Zone is a validated zone in canonical form. It is immutable once built.
type Zone struct {
	Name     Name
	Serial   uint32
	Records  []Record  // canonical order (see Text), duplicates removed
	Warnings []Problem // non-fatal findings: skipped $INCLUDE, dropped out-of-zone records
	rrs      []dns.RR  // parsed records in the same order as Records
	text     string
	hash     string
}

// Text returns the canonical zone text: one Record.String() line per record,
// each ending in "\n", SOA first, then sorted by owner in DNS canonical order
// (RFC 4034 §6.1), then type number, then data. Stable: the same zone content
// always gives the same bytes.
func (z *Zone) Text() string { return z.text }

// Hash returns the lower-case hex SHA-256 of Text().
func (z *Zone) Hash() string { return z.hash }

// RRs returns the zone's records as miekg/dns RRs, in Records order. Callers
// must not modify them.
func (z *Zone) RRs() []dns.RR { return z.rrs }

// Problem is one finding, with the 1-based line of the input it refers to
// (0 when it concerns the zone as a whole).
type Problem struct {
	Line int
	Msg  string
}

// Limits bounds what Parse accepts. Zero fields take the defaults.
type Limits struct {
	MaxRecords int // default 50000 (DefaultMaxRecords)
}

// Error is returned by Parse when the zone is refused; it lists every problem.
type Error struct {
	Zone     Name
	Problems []Problem
}
