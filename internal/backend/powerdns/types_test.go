package powerdns

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/zone"
)

// typesZone has a record of every type PowerDNS parses from text, and of
// types it does not (written in the RFC 3597 form).
const typesZone = `$TTL 300
@	IN	SOA	ns1 hostmaster 1 3600 600 86400 300
@	IN	NS	ns1
ns1	IN	A	192.0.2.1
mb	IN	MB	ns1
mg	IN	MG	ns1
mr	IN	MR	ns1
minfo	IN	MINFO	ns1 ns1
rp	IN	RP	hostmaster.types.example. txt.types.example.
hinfo	IN	HINFO	"PC" "Linux"
afsdb	IN	AFSDB	1 ns1
kx	IN	KX	10 ns1
key	IN	KEY	256 3 13 xh+2lBV4IBZN4QWz0JZrw1Ue7Q1RvpNYD8voeYPIhr89DwBw/Kb/DGj2wP56LOMiPcdDkRFiHjrqxCCK299VNQ==
cert	IN	CERT	PKIX 12345 RSASHA256 MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
apl	IN	APL	1:192.0.2.0/24 !2:2001:db8::/32
dhcid	IN	DHCID	AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
smimea	IN	SMIMEA	3 1 1 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899
openpgpkey	IN	OPENPGPKEY	mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq
csync	IN	CSYNC	66 3 A NS AAAA
nid	IN	NID	10 0014:4fff:ff20:ee64
l32	IN	L32	10 10.1.2.0
l64	IN	L64	10 2001:0db8:1140:1000
lp	IN	LP	10 l64-subnet1.types.example.
eui48	IN	EUI48	00-00-5e-00-53-2a
eui64	IN	EUI64	00-00-5e-ef-10-00-00-2a
uri	IN	URI	10 1 "ftp://ftp1.example.com/public"
spf	IN	SPF	"v=spf1 -all"
caa	IN	CAA	128 tbs "Unknown"
naptr	IN	NAPTR	100 50 "s" "http+N2L+N2C+N2R" "" _http._tcp.types.example.
loc	IN	LOC	60 9 0.000 N 24 39 0.000 E 10.00m 20m 2000m 20m
rt	IN	RT	10 ns1
x25	IN	X25	311061700956
isdn	IN	ISDN	"150862028003217" "004"
unknown	IN	TYPE65280	\# 3 abcdef
ds	IN	DS	60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
sshfp	IN	SSHFP	4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
tlsa	IN	TLSA	3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
svc	IN	SVCB	1 ns1 alpn="h2,h3" port="8443" ipv4hint="192.0.2.1,192.0.2.2"
web	IN	HTTPS	1 . alpn="h2" no-default-alpn ech="AEX+DQBB"
`

// TestEveryTypeServedAsWritten writes a zone of many types and asks
// PowerDNS for each RRset: it must answer exactly the records pushed.
func TestEveryTypeServedAsWritten(t *testing.T) {
	f := newFixture(t)
	z, err := zone.Parse("types.example", []byte(typesZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	p := f.pdns(t)
	want := map[string][]string{}
	qtype := map[string]uint16{}
	for _, rr := range z.RRs() {
		k := rr.Header().Name + " " + dns.TypeToString[rr.Header().Rrtype]
		want[k] = append(want[k], namedtest.Normalize(rr))
		qtype[k] = rr.Header().Rrtype
	}
	for k, w := range want {
		m := new(dns.Msg)
		m.SetQuestion(strings.Fields(k)[0], qtype[k])
		m.SetEdns0(4096, false)
		r, err := p.Exchange(m, "tcp")
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		var got []string
		for _, rr := range r.Answer {
			got = append(got, namedtest.Normalize(rr))
		}
		slices.Sort(got)
		slices.Sort(w)
		if r.Rcode != dns.RcodeSuccess || !slices.Equal(got, w) {
			t.Errorf("%s: %s\n got %q\nwant %q", k, dns.RcodeToString[r.Rcode], got, w)
		}
	}
}
