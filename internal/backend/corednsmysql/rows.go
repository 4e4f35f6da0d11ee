package corednsmysql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// row is one records row as the plugin reads it. Its value identifies
// the row's content: rows compare, and key maps, as whole values.
type row struct {
	host string // relative to the zone, "@" for the apex
	typ  string
	data string
	ttl  int64
}

// skipped are the types the plugin cannot use: it does no DNSSEC.
var skipped = map[string]bool{"RRSIG": true, "NSEC": true, "NSEC3": true, "NSEC3PARAM": true, "DNSKEY": true}

// Stored returns the part of z this backend writes and serves: z without
// its DNSSEC records (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY). Out-of-zone
// and occluded records never reach a zone.Zone. Apply writes this zone and
// Verify and Zone compare with it.
func Stored(z *zone.Zone) (*zone.Zone, error) {
	keep := make([]zone.Record, 0, len(z.Records))
	for _, r := range z.Records {
		if !skipped[r.Type] {
			keep = append(keep, r)
		}
	}
	if len(keep) == len(z.Records) {
		return z, nil
	}
	s, err := zone.Build(z.Name, keep, zone.Limits{MaxRecords: len(keep) + 1})
	if err != nil {
		return nil, fmt.Errorf("zone without its DNSSEC records: %w", err)
	}
	return s, nil
}

// rowsOf returns the rows of a zone already projected by Stored, each
// checked as the plugin reads it and against the columns' limits.
func rowsOf(z *zone.Zone, lim limits) ([]row, error) {
	apex := z.Name.FQDN()
	out := make([]row, 0, len(z.Records))
	var bad []error
	for _, r := range z.Records {
		w, err := rowOf(apex, r, lim)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, w)
	}
	return out, errors.Join(bad...)
}

func rowOf(apex string, r zone.Record, lim limits) (row, error) {
	w := row{host: relative(apex, r.Name), typ: r.Type, data: r.Data, ttl: int64(r.TTL)}
	switch {
	case r.TTL > math.MaxInt32:
		return row{}, fmt.Errorf("%s %s: TTL %d is over 2147483647, which the plugin cannot serve", r.Name, r.Type, r.TTL)
	case len(w.typ) > lim.typeLen:
		return row{}, fmt.Errorf("%s %s: type name longer than the type column (%d characters)", r.Name, r.Type, lim.typeLen)
	case len(w.data) > lim.dataLen:
		return row{}, fmt.Errorf("%s %s: data of %d characters does not fit the data column (%d)", r.Name, r.Type, len(w.data), lim.dataLen)
	}
	plain := mysqldb.PlainName(r.Name)
	if plain && (plainData(r.Type, r.Data) || memoized(r.Type, r.Data)) {
		return w, nil
	}
	if err := readsBack(apex, w, r); err != nil {
		return row{}, err
	}
	if plain {
		memo.Put(r.Type, r.Data, true)
	}
	return w, nil
}

// memo keeps the record data (type and canonical data) already found to
// read back as itself, for the records of any zone with a plain owner
// name (mysqldb.PlainName): the data of a row reads back independently of its
// owner, and a plain owner reads back as itself, so such a record needs
// no parsing again. Zones of one server share much of their data (its
// addresses, SPF and CAA records, outside name servers).
var memo = mysqldb.NewDataMemo[bool](8192)

// memoized reports whether typ and data were found to read back before.
func memoized(typ, data string) bool {
	ok, _ := memo.Get(typ, data)
	return ok
}

// readsBack parses the row the way the plugin does (owner, TTL, IN, type,
// data joined by spaces, the root as origin) and checks it gives r: an
// unreadable row makes the plugin fail its whole RRset.
func readsBack(apex string, w row, r zone.Record) error {
	rr, err := dns.NewRR(owner(apex, w.host) + " " + strconv.FormatInt(w.ttl, 10) + " IN " + w.typ + " " + w.data)
	if err != nil {
		return fmt.Errorf("%s %s: the plugin could not read the row: %w", r.Name, r.Type, err)
	}
	if rr == nil || !sameRecord(rr.String(), r) {
		return fmt.Errorf("%s %s: the plugin would read the row as a different record", r.Name, r.Type)
	}
	return nil
}

// sameRecord compares a printed RR with r, field by field except the class
// (miekg/dns prints CLASS1 for records of unknown types).
func sameRecord(printed string, r zone.Record) bool {
	f := strings.SplitN(printed, "\t", 5)
	return len(f) == 5 && f[0] == r.Name && f[1] == strconv.FormatUint(uint64(r.TTL), 10) && f[3] == r.Type && f[4] == r.Data
}

// relative turns an absolute owner into the hostname column: "@" for the
// apex, else the labels above it.
func relative(apex, name string) string {
	if name == apex {
		return "@"
	}
	return strings.TrimSuffix(name, "."+apex)
}

// owner is what the plugin makes of a hostname.
func owner(apex, host string) string {
	if host == "@" {
		return apex
	}
	return host + "." + apex
}

// record turns a row read back into the record the plugin serves, or
// explains why the plugin cannot serve it properly.
func record(apex string, w row) (zone.Record, error) {
	switch {
	case w.host == "" || strings.HasSuffix(w.host, ".") || strings.ContainsAny(w.host, " \t\r\n"):
		return zone.Record{}, fmt.Errorf("hostname %q is never matched", w.host)
	case w.host != strings.ToLower(w.host):
		return zone.Record{}, fmt.Errorf("hostname %q is not lower-case", w.host)
	case w.ttl < 0 || w.ttl > math.MaxInt32:
		return zone.Record{}, fmt.Errorf("TTL %d is out of range", w.ttl)
	}
	return zone.Record{Name: owner(apex, w.host), TTL: uint32(w.ttl), Type: w.typ, Data: w.data}, nil
}

// plainData reports data of the common types naming hosts (NS, CNAME,
// PTR, MX, SRV, SOA) whose names are plain (mysqldb.PlainName) and numbers
// decimal in range: such data reads back as itself, without parsing.
func plainData(typ, data string) bool {
	f := strings.Split(data, " ")
	switch {
	case typ == "NS" || typ == "CNAME" || typ == "PTR":
		return len(f) == 1 && mysqldb.PlainName(f[0])
	case typ == "MX":
		return len(f) == 2 && mysqldb.Decimal(f[0], math.MaxUint16) && mysqldb.PlainName(f[1])
	case typ == "SRV":
		return len(f) == 4 && mysqldb.Decimal(f[0], math.MaxUint16) && mysqldb.Decimal(f[1], math.MaxUint16) &&
			mysqldb.Decimal(f[2], math.MaxUint16) && mysqldb.PlainName(f[3])
	case typ == "SOA":
		return len(f) == 7 && mysqldb.PlainName(f[0]) && mysqldb.PlainName(f[1]) && mysqldb.Decimal(f[2], math.MaxUint32) &&
			mysqldb.Decimal(f[3], math.MaxUint32) && mysqldb.Decimal(f[4], math.MaxUint32) && mysqldb.Decimal(f[5], math.MaxUint32) && mysqldb.Decimal(f[6], math.MaxUint32)
	}
	return false
}
