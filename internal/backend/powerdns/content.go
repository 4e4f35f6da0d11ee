package powerdns

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/zone"
)

// pdnsTypes are the types PowerDNS 4.7 parses from their presentation
// format (its dnsrecords.cc); any other type is written in the RFC 3597
// generic form, which PowerDNS serves byte for byte.
var pdnsTypes = map[string]bool{
	"A": true, "NS": true, "CNAME": true, "SOA": true, "MB": true, "MG": true, "MR": true, "PTR": true,
	"HINFO": true, "MINFO": true, "MX": true, "TXT": true, "RP": true, "AFSDB": true, "KEY": true,
	"AAAA": true, "LOC": true, "SRV": true, "NAPTR": true, "KX": true, "CERT": true, "DNAME": true,
	"APL": true, "DS": true, "SSHFP": true, "IPSECKEY": true, "DHCID": true, "TLSA": true, "SMIMEA": true,
	"CDS": true, "CDNSKEY": true, "OPENPGPKEY": true, "CSYNC": true, "SVCB": true, "HTTPS": true,
	"SPF": true, "NID": true, "L32": true, "L64": true, "LP": true, "EUI48": true, "EUI64": true,
	"URI": true, "CAA": true,
}

// pdnsNames are the further types PowerDNS 4.7 knows by name (its
// QType table) without parsing their text: their rows carry the name, and
// RFC 3597 content.
var pdnsNames = map[string]bool{"SIG": true, "A6": true, "RKEY": true, "DLV": true, "NSEC": true, "RRSIG": true,
	"DNSKEY": true, "NSEC3": true, "NSEC3PARAM": true}

// noDots removes the trailing dot of every domain name field of rr (the
// root stays "."), as PowerDNS stores names in content.
func noDots(rr dns.RR) {
	v := reflect.ValueOf(rr).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !strings.Contains(f.Tag.Get("dns"), "domain-name") {
			continue
		}
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			fv.SetString(noDot(fv.String()))
		case reflect.Slice:
			for j := range fv.Len() {
				if e := fv.Index(j); e.Kind() == reflect.String {
					e.SetString(noDot(e.String()))
				}
			}
		}
	}
}

func noDot(name string) string {
	if name == "." || !strings.HasSuffix(name, ".") {
		return name
	}
	return name[:len(name)-1]
}

// cuts knows a zone's delegation points, for the auth column.
type cuts struct {
	apex string
	at   map[string]bool
}

func newCuts(z *zone.Zone) cuts {
	c := cuts{apex: z.Name.FQDN(), at: map[string]bool{}}
	for _, r := range z.Records {
		if r.Type == "NS" && r.Name != c.apex {
			c.at[r.Name] = true
		}
	}
	return c
}

// auth is 0 for what a delegation makes non-authoritative: the NS records
// at a cut and glue at or below it (the only data a canonical zone keeps
// there); 1 for the rest, the DS at a cut included (RFC 4035 §2.4).
func (c cuts) auth(r zone.Record) int64 {
	if len(c.at) == 0 {
		return 1
	}
	for n := r.Name; n != c.apex && n != ""; {
		if c.at[n] && !(n == r.Name && r.Type == "DS") {
			return 0
		}
		_, rest, ok := strings.Cut(n, ".")
		if !ok {
			break
		}
		n = rest
	}
	return 1
}

// certContent writes a CERT record with numbers for its type and
// algorithm (PowerDNS 4.7 does not read the mnemonics, RFC 4398 §2.2).
func certContent(c *dns.CERT) string {
	return strconv.Itoa(int(c.Type)) + " " + strconv.Itoa(int(c.KeyTag)) + " " + strconv.Itoa(int(c.Algorithm)) + " " + c.Certificate
}

// unquoteParams writes SvcParam values without the quotes miekg/dns puts
// around every value (port="443"): PowerDNS 4.7 refuses quoted values of
// numeric keys and serves SERVFAIL for the whole name. Values with
// characters that need quoting keep their quotes.
func unquoteParams(content string) string {
	f := strings.Split(content, " ")
	for i, p := range f {
		k, v, ok := strings.Cut(p, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			continue
		}
		if n, known := svcKeyNumber(k); !known {
			k = "key" + strconv.Itoa(n) // a key PowerDNS 4.7 knows only by number (dohpath, ohttp, ...)
		}
		switch inner := v[1 : len(v)-1]; {
		case inner == "": // a key without a value (no-default-alpn)
			f[i] = k
		case !strings.ContainsAny(inner, "\"\\ ;()"):
			f[i] = k + "=" + inner
		}
	}
	return strings.Join(f, " ")
}

// pdnsSvcKeys are the SvcParam keys PowerDNS 4.7 knows by name.
var pdnsSvcKeys = map[string]bool{"mandatory": true, "alpn": true, "no-default-alpn": true, "port": true,
	"ipv4hint": true, "ech": true, "ipv6hint": true}

// svcKeyNumber returns the number of a SvcParam key as miekg/dns names
// it, and whether PowerDNS knows that name.
func svcKeyNumber(name string) (int, bool) {
	if pdnsSvcKeys[name] || strings.HasPrefix(name, "key") {
		return 0, true
	}
	for k := dns.SVCBKey(0); k < 256; k++ {
		if k.String() == name {
			return int(k), false
		}
	}
	return 0, true
}

// svcKeyNames turns keyN back into the name miekg/dns insists on for the
// keys it knows (it refuses key7 for dohpath).
func svcKeyNames(content string) string {
	f := strings.Split(content, " ")
	for i, p := range f {
		k, v, ok := strings.Cut(p, "=")
		n, err := strconv.Atoi(strings.TrimPrefix(k, "key"))
		if !ok || !strings.HasPrefix(k, "key") || err != nil || n < 0 || n > 65535 {
			continue
		}
		if name := dns.SVCBKey(n).String(); name != k {
			f[i] = name + "=" + v
		}
	}
	return strings.Join(f, " ")
}
