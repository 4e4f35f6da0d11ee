// Package hostingzone generates zones in the shape DirectAdmin writes for
// a hosted domain, for tests and benchmarks that need many realistic zones.
package hostingzone

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/miekg/dns"
)

// Text renders a zone named name the way DirectAdmin writes it (the shape the
// bench generates: SOA, 2 NS, 4 A, 4 AAAA, a wildcard, MX, SPF, DMARC,
// a 2048-bit DKIM key, CAA, SRV: 18 records).
func Text(rng *rand.Rand, name string) string {
	v4 := fmt.Sprintf("192.0.2.%d", 1+rng.IntN(254))
	v6 := fmt.Sprintf("2001:db8:%x::%x", rng.IntN(0x10000), 1+rng.IntN(0xfffe))
	key := make([]byte, 294)
	for i := range key {
		key[i] = byte(rng.UintN(256))
	}
	dkim := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(key)
	var chunks []string
	for len(dkim) > 180 {
		chunks = append(chunks, `"`+dkim[:180]+`"`)
		dkim = dkim[180:]
	}
	chunks = append(chunks, `"`+dkim+`"`)
	apex := name + "."
	var b strings.Builder
	fmt.Fprintf(&b, "$TTL 3600\n@\tIN\tSOA\tns1.hostco.example.\thostmaster.%s ( %d 3600 3600 1209600 86400 )\n", apex, 2026010100+rng.IntN(99))
	fmt.Fprintf(&b, "%s\t3600\tIN\tNS\tns1.hostco.example.\n%s\t3600\tIN\tNS\tns2.hostco.example.\n", apex, apex)
	for _, o := range []string{apex, "ftp", "mail", "www"} {
		fmt.Fprintf(&b, "%s\t3600\tIN\tA\t%s\n%s\t3600\tIN\tAAAA\t%s\n", o, v4, o, v6)
	}
	fmt.Fprintf(&b, "*\t3600\tIN\tA\t%s\n", v4)
	fmt.Fprintf(&b, "%s\t3600\tIN\tMX\t10 mail\n", apex)
	fmt.Fprintf(&b, "%s\t3600\tIN\tTXT\t\"v=spf1 a mx ip4:%s ip6:%s ~all\"\n", apex, v4, v6)
	fmt.Fprintf(&b, "_dmarc\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine; rua=mailto:dmarc@%s\"\n", name)
	fmt.Fprintf(&b, "x._domainkey\t3600\tIN\tTXT\t( %s )\n", strings.Join(chunks, " "))
	fmt.Fprintf(&b, "%s\t3600\tIN\tCAA\t0 issue \"letsencrypt.org\"\n", apex)
	fmt.Fprintf(&b, "_sip._tcp\t3600\tIN\tSRV\t10 60 5060 mail.%s\n", apex)
	return b.String()
}

// Question draws one question of the bench's query mix over zones
// site0.example. to site<zones-1>.example.: names that exist (www A, @ MX,
// mail AAAA, @ TXT, _dmarc TXT), missing types (www MX), names under the
// wildcard and names that do not exist (about 10 %).
func Question(rng *rand.Rand, zones int) (name string, qtype uint16) {
	label := func() string {
		const a = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 6+rng.IntN(5))
		for i := range b {
			b[i] = a[rng.IntN(len(a))]
		}
		return string(b)
	}
	z := fmt.Sprintf("site%d.example.", rng.IntN(zones))
	switch p := rng.IntN(100); {
	case p < 18:
		return "www." + z, dns.TypeA
	case p < 30:
		return z, dns.TypeMX
	case p < 40:
		return "mail." + z, dns.TypeAAAA
	case p < 50:
		return z, dns.TypeTXT
	case p < 60:
		return "_dmarc." + z, dns.TypeTXT
	case p < 75:
		return label() + "." + z, dns.TypeA
	case p < 90:
		return "www." + z, dns.TypeMX
	default:
		return label() + ".www." + z, dns.TypeA
	}
}
