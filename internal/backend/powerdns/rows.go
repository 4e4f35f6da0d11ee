package powerdns

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

// row is one records row as PowerDNS reads it (disabled = 0, ordername
// NULL). Its value identifies the row's content: rows compare, and key
// maps, as whole values.
type row struct {
	name    string // owner, lower-case, no trailing dot
	typ     string
	content string
	ttl     int64
	prio    int64
	auth    int64
}

// skipped are the DNSSEC types PowerDNS serves from its own keys (online
// signing) or only for zones marked presigned, which dadns does not do.
var skipped = map[string]bool{"RRSIG": true, "NSEC": true, "NSEC3": true, "NSEC3PARAM": true, "DNSKEY": true}

// Stored returns the part of z this backend writes and PowerDNS serves: z
// without its DNSSEC records (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY).
// Out-of-zone and occluded records never reach a zone.Zone. Apply writes
// this zone and Verify and Zone compare with it.
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
// checked as PowerDNS reads it and against the columns' limits.
func rowsOf(z *zone.Zone, lim limits) ([]row, error) {
	c := newCuts(z)
	rrs := z.RRs()
	out := make([]row, 0, len(z.Records))
	var bad []error
	for i, r := range z.Records {
		w, err := rowOf(r, rrs[i], c, lim)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, w)
	}
	return append(out, c.entRows(z)...), errors.Join(bad...)
}

// entRows are PowerDNS's markers of empty non-terminals: a row with a
// NULL type (and content, ttl, prio) for every name between an owner and
// the apex that owns nothing itself, as pdnsutil rectify-zone writes
// them. Without them PowerDNS answers NXDOMAIN for such a name, and lets
// a wildcard above it match (RFC 4592 §2.2.2 says neither).
func (c cuts) entRows(z *zone.Zone) []row {
	owners := make(map[string]bool, len(z.Records))
	for _, r := range z.Records {
		owners[r.Name] = true
	}
	seen := map[string]bool{}
	var out []row
	for _, r := range z.Records {
		for n := r.Name; n != c.apex; {
			_, parent, ok := strings.Cut(n, ".")
			if !ok || parent == c.apex || !strings.HasSuffix(parent, "."+c.apex) {
				break
			}
			if !owners[parent] && !seen[parent] {
				seen[parent] = true
				out = append(out, row{name: strings.TrimSuffix(parent, "."), ttl: -1, auth: c.auth(zone.Record{Name: parent, Type: "ENT"})})
			}
			n = parent
		}
	}
	return out
}

func rowOf(r zone.Record, rr dns.RR, c cuts, lim limits) (row, error) {
	if r.TTL > math.MaxInt32 {
		return row{}, fmt.Errorf("%s %s: TTL %d is over 2147483647, which PowerDNS's ttl column cannot hold", r.Name, r.Type, r.TTL)
	}
	simple := mysqldb.PlainName(r.Name)
	rd, known := rdataRow{}, false
	if simple {
		rd, known = memo.Get(r.Type, r.Data)
	}
	if !known && simple {
		rd, known = plainRow(r.Type, r.Data)
	}
	if !known {
		var err error
		if rd.typ, rd.prio, rd.content, err = contentOf(rr); err != nil {
			return row{}, fmt.Errorf("%s %s: %w", r.Name, r.Type, err)
		}
	}
	w := row{name: strings.TrimSuffix(r.Name, "."), typ: rd.typ, content: rd.content, ttl: int64(r.TTL), prio: rd.prio, auth: c.auth(r)}
	switch {
	case len(w.typ) > lim.typeLen:
		return row{}, fmt.Errorf("%s %s: type name longer than the type column (%d characters)", r.Name, r.Type, lim.typeLen)
	case len(w.content) > lim.contentLen:
		return row{}, fmt.Errorf("%s %s: content of %d characters does not fit the content column (%d)", r.Name, r.Type, len(w.content), lim.contentLen)
	}
	if known {
		return w, nil
	}
	got, err := record(w)
	if err != nil || got != r {
		return row{}, fmt.Errorf("%s %s: the row would read back as a different record (%q, %v)", r.Name, r.Type, got.String(), err)
	}
	if simple {
		memo.Put(r.Type, r.Data, rd)
	}
	return w, nil
}

// rdataRow is the type, prio and content columns of a record's data, as
// contentOf writes them, known to read back as that data.
type rdataRow struct {
	typ     string
	prio    int64
	content string
}

// memo keeps the columns of record data already written and read back
// (by type and canonical data), for the records of any zone with a plain
// owner name (mysqldb.PlainName): the data of a row reads back independently of
// its owner, and a plain owner reads back as itself, so such a record
// needs neither printing nor parsing again. Zones of one server share
// much of their data (its addresses, SPF and CAA records, outside name
// servers).
var memo = mysqldb.NewDataMemo[rdataRow](8192)

// contentOf is the type, prio and content columns of rr as PowerDNS
// writes them itself: presentation format with the names' trailing dots
// removed, the priority of MX and SRV in prio. Types PowerDNS 4.7 has no
// parser for are written in the RFC 3597 generic form, TYPEn and \# rdata.
func contentOf(rr dns.RR) (typ string, prio int64, content string, err error) {
	t := rr.Header().Rrtype
	name, ok := dns.TypeToString[t]
	typ = "TYPE" + strconv.Itoa(int(t))
	if ok && (pdnsTypes[name] || pdnsNames[name]) {
		typ = name // PowerDNS looks rows up by its name of the type
	}
	if g, ok := rr.(*dns.RFC3597); ok && t == dns.TypeAPL && g.Rdata == "" {
		return typ, 0, "", nil // PowerDNS reads an APL without items from empty content, not from \# 0
	}
	if _, isGeneric := rr.(*dns.RFC3597); isGeneric || !pdnsTypes[name] {
		content, err := generic(rr)
		return typ, 0, content, err
	}
	c := dns.Copy(rr)
	noDots(c)
	f := strings.SplitN(c.String(), "\t", 5)
	if len(f) < 5 {
		return "", 0, "", errors.New("record cannot be printed")
	}
	content = f[4]
	switch c := rr.(type) {
	case *dns.SVCB:
		content = unquoteParams(content)
	case *dns.HTTPS:
		content = unquoteParams(content)
	case *dns.CERT:
		content = certContent(c)
	}
	if t == dns.TypeMX || t == dns.TypeSRV {
		p, rest, _ := strings.Cut(content, " ")
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return "", 0, "", fmt.Errorf("priority %q: %w", p, err)
		}
		return name, n, rest, nil
	}
	return name, 0, content, nil
}

// generic returns rr's RDATA in the RFC 3597 form.
func generic(rr dns.RR) (string, error) {
	buf := make([]byte, dns.Len(rr)+1)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	rdata := buf[n-int(rr.Header().Rdlength) : n]
	if len(rdata) == 0 {
		return `\# 0`, nil
	}
	return fmt.Sprintf(`\# %d %x`, len(rdata), rdata), nil
}

// record turns a row into the record PowerDNS serves from it, in the
// canonical form, or explains why the row is not a record.
func record(w row) (zone.Record, error) {
	switch {
	case w.name == "" || strings.HasSuffix(w.name, ".") || strings.ContainsAny(w.name, " \t\r\n\"();\\"):
		return zone.Record{}, fmt.Errorf("name %q is not a plain owner name", w.name)
	case w.name != strings.ToLower(w.name):
		return zone.Record{}, fmt.Errorf("name %q is not lower-case", w.name)
	case w.ttl < 0 || w.ttl > math.MaxInt32:
		return zone.Record{}, fmt.Errorf("TTL %d is out of range", w.ttl)
	case strings.ContainsAny(w.content, "\r\n"):
		return zone.Record{}, errors.New("content spans lines")
	}
	text := w.name + ". " + strconv.FormatInt(w.ttl, 10) + " IN " + w.typ + " "
	if w.typ == "MX" || w.typ == "SRV" {
		text += strconv.FormatInt(w.prio, 10) + " "
	}
	content := w.content
	if w.typ == "SVCB" || w.typ == "HTTPS" {
		content = svcKeyNames(content)
	}
	if strings.HasPrefix(w.content, `\# `) && !strings.HasPrefix(w.typ, "TYPE") {
		text = strings.Replace(text, " IN "+w.typ+" ", " IN TYPE"+strconv.Itoa(int(dns.StringToType[w.typ]))+" ", 1)
	}
	rr, err := dns.NewRR(text + content)
	if err != nil {
		return zone.Record{}, err
	}
	if rr == nil {
		return zone.Record{}, errors.New("empty record")
	}
	rr = genericForm(rr)
	f := strings.SplitN(rr.String(), "\t", 5)
	if len(f) < 5 {
		return zone.Record{}, errors.New("record cannot be printed")
	}
	return zone.Record{Name: strings.ToLower(f[0]), TTL: rr.Header().Ttl, Type: f[3], Data: f[4]}, nil
}

// genericForm keeps in the RFC 3597 form the records whose presentation
// form does not read back, as the zone package does: NULL, and APL
// without items.
func genericForm(rr dns.RR) dns.RR {
	switch r := rr.(type) {
	case *dns.NULL:
	case *dns.APL:
		if len(r.Prefixes) > 0 {
			return rr
		}
	default:
		return rr
	}
	g := new(dns.RFC3597)
	if err := g.ToRFC3597(rr); err != nil {
		return rr
	}
	return g
}

// plainRow returns the columns of the data of the common types naming
// hosts (NS, CNAME, PTR, MX, SRV, SOA) whose names are plain (mysqldb.PlainName)
// and numbers decimal in range, as contentOf writes them and record
// reads them back, without printing or parsing: such data reads back as
// itself. ok is false for any other data.
func plainRow(typ, data string) (rd rdataRow, ok bool) {
	f := strings.Split(data, " ")
	switch {
	case (typ == "NS" || typ == "CNAME" || typ == "PTR") && len(f) == 1 && mysqldb.PlainName(f[0]):
		return rdataRow{typ: typ, content: noDot(f[0])}, true
	case typ == "MX" && len(f) == 2 && mysqldb.Decimal(f[0], math.MaxUint16) && mysqldb.PlainName(f[1]):
		p, _ := strconv.ParseInt(f[0], 10, 64)
		return rdataRow{typ: typ, prio: p, content: noDot(f[1])}, true
	case typ == "SRV" && len(f) == 4 && mysqldb.Decimal(f[0], math.MaxUint16) && mysqldb.Decimal(f[1], math.MaxUint16) &&
		mysqldb.Decimal(f[2], math.MaxUint16) && mysqldb.PlainName(f[3]):
		p, _ := strconv.ParseInt(f[0], 10, 64)
		return rdataRow{typ: typ, prio: p, content: f[1] + " " + f[2] + " " + noDot(f[3])}, true
	case typ == "SOA" && len(f) == 7 && mysqldb.PlainName(f[0]) && mysqldb.PlainName(f[1]) && mysqldb.Decimal(f[2], math.MaxUint32) &&
		mysqldb.Decimal(f[3], math.MaxUint32) && mysqldb.Decimal(f[4], math.MaxUint32) && mysqldb.Decimal(f[5], math.MaxUint32) && mysqldb.Decimal(f[6], math.MaxUint32):
		return rdataRow{typ: typ, content: noDot(f[0]) + " " + noDot(f[1]) + " " + strings.Join(f[2:], " ")}, true
	}
	return rdataRow{}, false
}
