package dnsserver

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// hostingZoneText renders a zone in the shape DirectAdmin writes (as the
// bench generates them: SOA, 2 NS, A and AAAA for the apex, ftp, mail
// and www, a wildcard A, MX, SPF, DMARC, a 2048-bit DKIM key, CAA, SRV:
// 18 records).
func hostingZoneText(rng *rand.Rand, name string) string {
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

// hostingZones returns n hosting-shaped zones, site0.example. upwards.
func hostingZones(tb testing.TB, n int) []*Zone {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]*Zone, n)
	for i := range out {
		name := fmt.Sprintf("site%d.example", i)
		out[i] = mustZone(tb, name+".", hostingZoneText(rng, name))
	}
	return out
}

// hostingQueries draws n packed queries in the bench's mix (names that
// exist, missing types, wildcard names, NXDOMAIN) over zones 0..zones-1.
func hostingQueries(tb testing.TB, zones, n int) [][]byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	label := func() string {
		const a = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 6+rng.IntN(5))
		for i := range b {
			b[i] = a[rng.IntN(len(a))]
		}
		return string(b)
	}
	out := make([][]byte, n)
	for i := range out {
		z := fmt.Sprintf("site%d.example.", rng.IntN(zones))
		var name string
		var t uint16
		switch p := rng.IntN(100); {
		case p < 18:
			name, t = "www."+z, dns.TypeA
		case p < 30:
			name, t = z, dns.TypeMX
		case p < 40:
			name, t = "mail."+z, dns.TypeAAAA
		case p < 50:
			name, t = z, dns.TypeTXT
		case p < 60:
			name, t = "_dmarc."+z, dns.TypeTXT
		case p < 75:
			name, t = label()+"."+z, dns.TypeA
		case p < 90:
			name, t = "www."+z, dns.TypeMX
		default:
			name, t = label()+".www."+z, dns.TypeA
		}
		q := new(dns.Msg)
		q.SetQuestion(name, t)
		q.SetEdns0(1232, false)
		q.Id = uint16(i)
		b, err := q.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// BenchmarkHostingMix answers the bench's query mix over 10,000
// hosting-shaped zones the way the UDP loop does (cache first, then the
// full path), queries spread evenly over the zones: the worst case for
// the bounded set of decoded zones. DNSSERVER_WARM=1 answers every query
// once before measuring; DNSSERVER_CACHE and DNSSERVER_DECODED set the
// cache bound and the number of decoded zones.
func BenchmarkHostingMix(b *testing.B) {
	const zones = 10000
	if v, err := strconv.Atoi(os.Getenv("DNSSERVER_DECODED")); err == nil {
		defer func(old int) { decodedZones = old }(decodedZones)
		decodedZones = v
	}
	entries, _ := strconv.Atoi(os.Getenv("DNSSERVER_CACHE"))
	s := New(Options{Logger: quietLogger(), CacheEntries: entries})
	if failed := s.Apply(hostingZones(b, zones), nil); failed != nil {
		b.Fatal(failed)
	}
	qs := hostingQueries(b, zones, 200000)
	key, out := make([]byte, 0, 260), make([]byte, 0, 4096)
	answer := func(pkt []byte) {
		var ok bool
		if out, ok = s.fastReply(s.snap.Load(), pkt, key, out); ok {
			return
		}
		if out, ok = s.slowReply(pkt, nil, out); !ok {
			b.Fatal("no reply")
		}
	}
	if os.Getenv("DNSSERVER_WARM") != "" {
		for _, pkt := range qs {
			answer(pkt) // one pass first: the steady state is measured
		}
	}
	b.ReportAllocs()
	start := decodes.Load()
	i := 0
	for b.Loop() {
		answer(qs[i%len(qs)])
		i++
	}
	b.ReportMetric(float64(decodes.Load()-start)/float64(b.N), "decodes/op")
	b.ReportMetric(float64(s.budget.n.Load()), "cached")
}
