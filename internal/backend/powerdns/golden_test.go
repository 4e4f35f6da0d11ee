package powerdns

import (
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

var goldenZone = `$TTL 3600
@	IN	SOA	NS1.Golden.Example.	hostmaster ( 2026010101 3600 900 1209600 300 )
@	IN	NS	ns1
@	IN	NS	ns2.elsewhere.example.
@	IN	A	192.0.2.1
@	IN	AAAA	2001:DB8:0:0::1
ns1	IN	A	192.0.2.53
WWW	300	IN	CNAME	@
@	IN	MX	10 mail
@	IN	MX	0 .
mail	IN	A	192.0.2.25
@	IN	TXT	"v=spf1 a mx ~all"
esc	IN	TXT	"semi;colon" "quote\"inside" "back\\slash" "tab\009x"
_sip._tcp	IN	SRV	10 60 5060 sip
sip	IN	A	192.0.2.30
@	IN	CAA	0 issue "letsencrypt.org"
*	IN	A	192.0.2.99
*.dyn	IN	TXT	"wild"
child	IN	NS	ns1.child
child	IN	NS	ns.other.example.
child	IN	DS	40213 13 2 5F2C6D0B9E7A41C3D8B0F1E2A3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6
ns1.child	IN	A	192.0.2.60
www.child	IN	A	192.0.2.61
@	IN	TYPE65534	\# 4 0A0B0C0D
@	IN	SSHFP	1 1 0123456789ABCDEF0123456789ABCDEF01234567
_443._tcp	IN	TLSA	3 1 1 AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899
@	IN	HTTPS	1 . alpn="h2,h3"
svc	IN	SVCB	1 sip port=8443
@	IN	NAPTR	100 10 "u" "E2U+sip" "!^.*$!sip:info@golden.example!" .
rt	IN	RT	10 sip
loc	IN	LOC	52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
10	IN	PTR	sip
d	IN	DNAME	target.example.
`

// goldenRows is what PowerDNS must find, one
// "name|type|content|ttl|prio|disabled|auth|ordername" line per row.
// www.child is occluded by the delegation: no row.
var goldenRows = []string{
	`golden.example|A|192.0.2.1|3600|0|0|1|NULL`,
	`golden.example|AAAA|2001:db8::1|3600|0|0|1|NULL`,
	`golden.example|CAA|0 issue "letsencrypt.org"|3600|0|0|1|NULL`,
	`golden.example|HTTPS|1 . alpn=h2,h3|3600|0|0|1|NULL`,
	`golden.example|MX|.|3600|0|0|1|NULL`,
	`golden.example|MX|mail.golden.example|3600|10|0|1|NULL`,
	`golden.example|NAPTR|100 10 "u" "E2U+sip" "!^.*$!sip:info@golden.example!" .|3600|0|0|1|NULL`,
	`golden.example|NS|ns1.golden.example|3600|0|0|1|NULL`,
	`golden.example|NS|ns2.elsewhere.example|3600|0|0|1|NULL`,
	`golden.example|SOA|ns1.golden.example hostmaster.golden.example 2026010101 3600 900 1209600 300|3600|0|0|1|NULL`,
	`golden.example|SSHFP|1 1 0123456789ABCDEF0123456789ABCDEF01234567|3600|0|0|1|NULL`,
	`golden.example|TXT|"v=spf1 a mx ~all"|3600|0|0|1|NULL`,
	`golden.example|TYPE65534|\# 4 0a0b0c0d|3600|0|0|1|NULL`,
	`*.dyn.golden.example|TXT|"wild"|3600|0|0|1|NULL`,
	`*.golden.example|A|192.0.2.99|3600|0|0|1|NULL`,
	`_443._tcp.golden.example|TLSA|3 1 1 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899|3600|0|0|1|NULL`,
	`_sip._tcp.golden.example|SRV|60 5060 sip.golden.example|3600|10|0|1|NULL`,
	`child.golden.example|DS|40213 13 2 5F2C6D0B9E7A41C3D8B0F1E2A3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6|3600|0|0|1|NULL`,
	`child.golden.example|NS|ns.other.example|3600|0|0|0|NULL`,
	`child.golden.example|NS|ns1.child.golden.example|3600|0|0|0|NULL`,
	`esc.golden.example|TXT|"semi;colon" "quote\"inside" "back\\slash" "tab\009x"|3600|0|0|1|NULL`,
	`mail.golden.example|A|192.0.2.25|3600|0|0|1|NULL`,
	`ns1.child.golden.example|A|192.0.2.60|3600|0|0|0|NULL`,
	`ns1.golden.example|A|192.0.2.53|3600|0|0|1|NULL`,
	`sip.golden.example|A|192.0.2.30|3600|0|0|1|NULL`,
	`www.golden.example|CNAME|golden.example|300|0|0|1|NULL`,
	`svc.golden.example|SVCB|1 sip.golden.example port=8443|3600|0|0|1|NULL`,
	`rt.golden.example|TYPE21|\# 22 000a0373697006676f6c64656e076578616d706c6500|3600|0|0|1|NULL`,
	`loc.golden.example|LOC|52 22 23.000 N 04 53 32.000 E -2m 0.00m 10000m 10m|3600|0|0|1|NULL`,
	`10.golden.example|PTR|sip.golden.example|3600|0|0|1|NULL`,
	`d.golden.example|DNAME|target.example|3600|0|0|1|NULL`,
	`_tcp.golden.example|NULL|NULL|-1|-1|0|1|NULL`,
	`dyn.golden.example|NULL|NULL|-1|-1|0|1|NULL`,
}

// TestGoldenRows writes a zone with the tricky shapes (escaped TXT, MX
// and SRV priorities, null MX, wildcard, delegation with glue, unknown
// types) and compares the rows with PowerDNS's own format.
func TestGoldenRows(t *testing.T) {
	f := newFixture(t)
	z, err := zone.Parse("golden.example", []byte(goldenZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	if d := diffLines(f.rows(t, "golden.example"), goldenRows); d != "" {
		t.Fatalf("rows differ from the golden set:\n%s", d)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM domains WHERE name = 'golden.example' AND type = 'NATIVE' AND account = 'dadns'"); n != 1 {
		t.Fatalf("%d domains rows", n)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatal(err)
	}
	got, err := f.b.Zone(testCtx(t), z.Name)
	if err != nil || got.Hash() != z.Hash() {
		t.Fatalf("Zone() = %v, %v; want the pushed zone back", got, err)
	}
}
