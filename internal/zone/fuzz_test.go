package zone

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// reads back from its canonical text as the very same zone.
func FuzzParse(f *testing.F) {
	for origin, text := range testdataZones(f) {
		f.Add(string(origin), text)
	}
	for _, snippet := range fuzzSnippets {
		f.Add("example.com", []byte(head+snippet+"\n"))
	}
	f.Fuzz(func(t *testing.T, origin string, text []byte) {
		name, err := ParseName(origin)
		if err != nil {
			name = "example.com"
		}
		z, err := Parse(name, text, Limits{MaxRecords: 2000})
		if err != nil {
			if len(Problems(err)) == 0 {
				t.Fatalf("refusal without problems: %v", err)
			}
			return
		}
		checkZone(t, z)
	})
}

// fuzzSnippets give the fuzzer the zone syntax that sample zones lack.
var fuzzSnippets = []string{
	`www IN TXT "a\"b" ( c` + "\n" + ` d ) ; comment`,
	"$GENERATE 1-3 h$ A 192.0.2.$\n$GENERATE 1-2 x${1,2,x} CNAME h1",
	`$ORIGIN sub.example.com.` + "\n" + `@ 60 IN MX 10 mail` + "\n" + `$TTL 1h`,
	`$INCLUDE /etc/passwd` + "\n" + `  $include x`,
	`x IN TYPE65534 \# 3 abcdef` + "\n" + `y IN A \# 4 c0000201`,
	`sub IN NS ns.sub` + "\n" + `ns.sub IN A 192.0.2.1` + "\n" + `x.sub IN TXT "occluded"`,
	`www IN CNAME a.` + "\n" + `www IN RRSIG CNAME 13 3 60 20250501000000 20250401000000 1 example.com. AAAA`,
	`a\.b\065\ c IN A 192.0.2.1` + "\n" + `*.w IN AAAA 2001:db8::1`,
	"x IN TXT \"\\195\\169\\\\\" \"\"\r\ny CH TXT z",
	`x IN CAA 0 issue "ca; a=b"` + "\n" + `x IN SVCB 1 . alpn=h2 port=443` + "\n" + `x IN LOC 1 2 3 N 4 5 6 E 7m`,
	`x IN NAPTR 100 10 "S" "SIP+D2U" "!^.*$!sip:x@y!" .` + "\n" + `x IN SSHFP 1 1 ABCDEF`,
	`x IN DS 1 13 2 ABCDEF` + "\n" + `x IN DNSKEY 257 3 13 AAAA` + "\n" + `x IN NSEC y.example.com. A`,
	`x ( IN A` + "\n" + ` 192.0.2.1 )` + "\n" + `y 1w2d IN A 192.0.2.2`,
	`@ IN SOA a. b. ( 1 2 3 4 5 )` + "\n" + `@ IN CNAME x.`,
}

// FuzzParseName checks that ParseName never panics and that accepted names
// hold only allowed bytes and parse back unchanged.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"Example.COM.", "_dmarc.example.com", "11.whs.internal", "a..b", "xn--bcher-kva.example", "", ".", "a/b", "bücher.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			if n != "" {
				t.Fatalf("ParseName(%q) returned %q with error %v", s, n, err)
			}
			return
		}
		if n == "" || len(n) > maxNameLen || strings.Trim(string(n), "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
			t.Fatalf("ParseName(%q) = %q: bad bytes or length", s, n)
		}
		if again, err := ParseName(string(n)); err != nil || again != n {
			t.Fatalf("ParseName(%q) = %q, then %q, %v", s, n, again, err)
		}
		if again, err := ParseName(n.FQDN()); err != nil || again != n {
			t.Fatalf("ParseName(%q) = %q, %v", n.FQDN(), again, err)
		}
		if !strings.EqualFold(strings.TrimSuffix(s, "."), string(n)) {
			t.Fatalf("ParseName(%q) = %q changed more than case", s, n)
		}
	})
}
