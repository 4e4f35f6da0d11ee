package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// benchZone is one generated zone: its name (no trailing dot), the SOA
// serial it carries, and what its text (in the shape DirectAdmin pushes) is
// rendered from when needed. The text itself is not kept, so that the
// bench's own memory stays small at 100,000 zones: ~100 bytes a zone
// instead of ~1.3 KB.
type benchZone struct {
	name     string
	serial   uint32
	v4, v6   string // its addresses
	dkimSeed uint64 // its DKIM key is drawn from this seed
}

// words make the generated domain names look like hosting customers'.
var words = []string{
	"bakery", "garage", "studio", "florist", "dental", "legal", "travel",
	"fitness", "photo", "books", "coffee", "design", "plumbing", "yoga",
	"vintage", "garden", "music", "kids", "pets", "wine",
}

var tlds = []string{"com", "net", "org", "nl", "de", "eu"}

// dkimHeader is the DER prefix of every 2048-bit RSA public key
// (SubjectPublicKeyInfo up to the modulus's leading zero octet), and
// dkimExponent its end (exponent 65537); a generated key puts 256 random
// octets between them, so it has a real key's size and structure.
var (
	dkimHeader   = []byte("\x30\x82\x01\x22\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x03\x82\x01\x0f\x00\x30\x82\x01\x0a\x02\x82\x01\x01\x00")
	dkimExponent = []byte{0x02, 0x03, 0x01, 0x00, 0x01}
)

// dkimChunk is how DirectAdmin-style DKIM records are cut into strings.
const dkimChunk = 180

// generateZones returns n distinct zones, the same for the same seed.
func generateZones(seed uint64, n int) []*benchZone {
	rng := rand.New(rand.NewPCG(seed, 0x6461646e73))
	zones := make([]*benchZone, n)
	for i := range zones {
		name := fmt.Sprintf("%s%d.%s", words[rng.IntN(len(words))], i, tlds[rng.IntN(len(tlds))])
		zones[i] = newZone(rng, name)
	}
	return zones
}

// newZone draws one zone's addresses, serial and keys from rng.
func newZone(rng *rand.Rand, name string) *benchZone {
	return &benchZone{name: name, serial: drawSerial(rng), v4: drawIPv4(rng), v6: drawIPv6(rng), dkimSeed: rng.Uint64()}
}

// text renders z as DirectAdmin pushes it.
func (z *benchZone) text() string {
	return zoneText(z, z.v4, z.v6, drawDKIM(rand.New(rand.NewPCG(z.dkimSeed, 0x646b696d))))
}

// withSerial returns z as DirectAdmin pushes it again after a change: the
// same records under the next serial.
func (z *benchZone) withSerial(serial uint32) *benchZone {
	n := *z
	n.serial = serial
	return &n
}

// drawSerial returns a YYYYMMDDnn serial in 2025 or 2026.
func drawSerial(rng *rand.Rand) uint32 {
	y, m, d, n := 2025+rng.IntN(2), 1+rng.IntN(12), 1+rng.IntN(28), 1+rng.IntN(20)
	return uint32(y*1000000 + m*10000 + d*100 + n)
}

// drawIPv4 returns an address in one of the documentation ranges.
func drawIPv4(rng *rand.Rand) string {
	nets := []string{"192.0.2", "198.51.100", "203.0.113"}
	return fmt.Sprintf("%s.%d", nets[rng.IntN(len(nets))], 1+rng.IntN(254))
}

// drawIPv6 returns an address under 2001:db8::/32.
func drawIPv6(rng *rand.Rand) string {
	return fmt.Sprintf("2001:db8:%x::%x", rng.IntN(0x10000), 1+rng.IntN(0xfffe))
}

// drawDKIM returns the p= value of a 2048-bit RSA key.
func drawDKIM(rng *rand.Rand) string {
	key := append([]byte{}, dkimHeader...)
	for i := range 256 {
		b := byte(rng.UintN(256))
		if i == 0 {
			b |= 0x80 // a 2048-bit modulus has its top bit set
		}
		key = append(key, b)
	}
	key = append(key, dkimExponent...)
	return base64.StdEncoding.EncodeToString(key)
}

// zoneText renders z the way DirectAdmin writes named zone files: leading
// blank lines, no $ORIGIN, a multi-line SOA, tab-separated records with
// relative and absolute owners.
func zoneText(z *benchZone, v4, v6, dkim string) string {
	var b strings.Builder
	apex := z.name + "."
	b.WriteString(strings.Repeat("\n", 12))
	fmt.Fprintf(&b, "$TTL 3600\n@\tIN\tSOA\tns1.hostco-bench.example.\thostmaster.%s (\n", apex)
	fmt.Fprintf(&b, "\t\t\t\t\t\t%d\n\t\t\t\t\t\t3600\n\t\t\t\t\t\t3600\n\t\t\t\t\t\t1209600\n\t\t\t\t\t\t86400 )\n\n", z.serial)
	fmt.Fprintf(&b, "%s\t3600\tIN\tNS\tns1.hostco-bench.example.\n%s\t3600\tIN\tNS\tns2.hostco-bench.example.\n\n", apex, apex)
	for _, owner := range []string{apex, "ftp", "mail", "www"} {
		fmt.Fprintf(&b, "%s\t3600\tIN\tA\t%s\n", owner, v4)
	}
	for _, owner := range []string{apex, "ftp", "mail", "www"} {
		fmt.Fprintf(&b, "%s\t3600\tIN\tAAAA\t%s\n", owner, v6)
	}
	fmt.Fprintf(&b, "*\t3600\tIN\tA\t%s\n\n", v4)
	fmt.Fprintf(&b, "%s\t3600\tIN\tMX\t10 mail\n\n", apex)
	fmt.Fprintf(&b, "%s\t3600\tIN\tTXT\t\"v=spf1 a mx ip4:%s ip6:%s ~all\"\n", apex, v4, v6)
	fmt.Fprintf(&b, "_dmarc\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine; sp=none; rua=mailto:dmarc@%s\"\n", z.name)
	fmt.Fprintf(&b, "x._domainkey\t3600\tIN\tTXT\t( %s )\n", quotedChunks("v=DKIM1; k=rsa; p="+dkim, dkimChunk))
	fmt.Fprintf(&b, "%s\t3600\tIN\tCAA\t0 issue \"letsencrypt.org\"\n", apex)
	fmt.Fprintf(&b, "_sip._tcp\t3600\tIN\tSRV\t10 60 5060 mail.%s\n", apex)
	return b.String()
}

// quotedChunks cuts s into quoted strings of at most n bytes, one per
// line after the first, as DKIM records are written.
func quotedChunks(s string, n int) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, `"`+s[:n]+`"`)
		s = s[n:]
	}
	parts = append(parts, `"`+s+`"`)
	return strings.Join(parts, "\n\t")
}

// zoneRecords is how many records zoneText writes per zone.
const zoneRecords = 1 + 2 + 4 + 4 + 1 + 1 + 1 + 1 + 1 + 1 + 1

// writeZoneFiles writes each zone to dir/<name>.db, rendering one at a
// time.
func writeZoneFiles(dir string, zones []*benchZone) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("dadnsbench: write zones: %w", err)
	}
	var total int64
	for _, z := range zones {
		text := z.text()
		if err := os.WriteFile(zoneFile(dir, z), []byte(text), 0o644); err != nil {
			return 0, fmt.Errorf("dadnsbench: write zone %s: %w", z.name, err)
		}
		total += int64(len(text))
	}
	return total, nil
}

// zoneFile is where writeZoneFiles puts z.
func zoneFile(dir string, z *benchZone) string {
	return filepath.Join(dir, z.name+".db")
}
