package corednsmysql

import (
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// dkim is shaped like a 4096-bit DKIM key: a data value of over 700
// characters in five quoted strings.
var dkim = `"v=DKIM1; k=rsa; p=MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAwxz0RGyQ5hnqPDAt1YFVNL1Cd1uR0g3vE6ZLHz5qCdm3vVKp2jGmXo8lCqHvAjxlCwlD1Ur2T4wBgDDz0ZcI1Fr7K0" ` +
	`"hP1mZ3w6N2tZ3Z7Hbu3bH3Q3k0qgVmfmM0o0FQZx8z2GJTQ0QbYn1p2JZbA1x6fVw7zE9Lr1cYvR2m1KxW7J7v8vB6wGmJmZC1m9Vn1f1Wc0s7E1bqRZ3Qn2f5kE1x0A4b3b4o5s5FhG2lKp9eA7gVx0p3T8K8nLqR3vY" ` +
	`"nQ8q1n8rD2vX3h4mW6Q0oJ7fG5u2u1xW6c3lT9e0K4x3mC8fR1pY2wS5qD7jK6hL3gN9tB0vZ4aU1iE8oM2yP5rX7cJ3kF6dW9sH1bG4nA0zV2eT8uQ5lR3iY7xO6wK9jM1pC4hD2gS5fB8vN0aZ3tE7rU6yL1qI9oX" ` +
	`"Zq3WvB8nM1cK4xH7jT0fG2dR5sL9pY6uE3iA8oN1wQ4zV7bC0kJ2mX5hF8gD1tS4rU7yI0eO3aP6lW9qZ2vB5nM8cK1xH4jT7fG0dR3sL6pY9uE2iA5oN8wQ1z" ` +
	`"4mJ2kH5cW8dG1sF3nB6vA9zT0eR7uY4lQ2iO5wP8xK1jC3hM6gD9fS2bN4aV7tZ0rE5yU8qL1iW3oX6kJ9mH2cP4dG7sB0fN5vA8zT1eR3uY6lQ9iO2wK4xJ7jM0pC5hD8gS1fB3vN6aZ9tE2rU4yL7qI0oIDAQAB"`

var goldenZone = `$TTL 3600
@	IN	SOA	NS1.Golden.Example.	hostmaster ( 2026010101 3600 900 1209600 300 )
@	IN	NS	ns1
@	IN	NS	ns2.elsewhere.example.
@	IN	A	192.0.2.1
@	IN	AAAA	2001:DB8:0:0::1
ns1	IN	A	192.0.2.53
WWW	300	IN	CNAME	@
@	IN	MX	10 mail
mail	IN	A	192.0.2.25
@	IN	TXT	"v=spf1 a mx ~all"
esc	IN	TXT	"semi;colon" "quote\"inside" "back\\slash" "tab\009x"
long	IN	TXT	` + dkim + `
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
@	IN	NAPTR	100 10 "u" "E2U+sip" "!^.*$!sip:info@golden.example!" .
`

// goldenRows is what CoreDNS must find, one "hostname|type|data|ttl|online"
// line per row. www.child is occluded by the delegation: no row.
var goldenRows = []string{
	`@|A|192.0.2.1|3600|1`,
	`@|AAAA|2001:db8::1|3600|1`,
	`@|CAA|0 issue "letsencrypt.org"|3600|1`,
	`@|HTTPS|1 . alpn="h2,h3"|3600|1`,
	`@|MX|10 mail.golden.example.|3600|1`,
	`@|NAPTR|100 10 "u" "E2U+sip" "!^.*$!sip:info@golden.example!" .|3600|1`,
	`@|NS|ns1.golden.example.|3600|1`,
	`@|NS|ns2.elsewhere.example.|3600|1`,
	`@|SOA|ns1.golden.example. hostmaster.golden.example. 2026010101 3600 900 1209600 300|3600|1`,
	`@|SSHFP|1 1 0123456789ABCDEF0123456789ABCDEF01234567|3600|1`,
	`@|TXT|"v=spf1 a mx ~all"|3600|1`,
	`@|TYPE65534|\# 4 0a0b0c0d|3600|1`,
	`*.dyn|TXT|"wild"|3600|1`,
	`*|A|192.0.2.99|3600|1`,
	`_443._tcp|TLSA|3 1 1 aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899|3600|1`,
	`_sip._tcp|SRV|10 60 5060 sip.golden.example.|3600|1`,
	`child|DS|40213 13 2 5F2C6D0B9E7A41C3D8B0F1E2A3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6|3600|1`,
	`child|NS|ns.other.example.|3600|1`,
	`child|NS|ns1.child.golden.example.|3600|1`,
	`esc|TXT|"semi;colon" "quote\"inside" "back\\slash" "tab\009x"|3600|1`,
	`long|TXT|` + dkim + `|3600|1`,
	`mail|A|192.0.2.25|3600|1`,
	`ns1.child|A|192.0.2.60|3600|1`,
	`ns1|A|192.0.2.53|3600|1`,
	`sip|A|192.0.2.30|3600|1`,
	`www|CNAME|golden.example.|300|1`,
}

// TestGoldenRows writes a zone with every record type of the contract and
// the tricky shapes (long DKIM, escaped TXT, wildcard, delegation with
// glue, unknown type) and compares the rows with the contract's format.
func TestGoldenRows(t *testing.T) {
	f := newFixture(t)
	z, err := zone.Parse("golden.example", []byte(goldenZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	if d := diffLines(f.rows(t, "golden.example."), goldenRows); d != "" {
		t.Fatalf("rows differ from the golden set:\n%s", d)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM zones WHERE zone_name = 'golden.example.'"); n != 1 {
		t.Fatalf("%d zones rows", n)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatal(err)
	}
	if len(dkim) < 700 {
		t.Fatalf("the DKIM row is %d characters, meant to exceed 700", len(dkim))
	}
}

// TestGoldenReverseZone checks a reverse zone's PTR rows.
func TestGoldenReverseZone(t *testing.T) {
	f := newFixture(t)
	z, err := zone.Parse("2.0.192.in-addr.arpa", []byte(`$TTL 86400
@	IN	SOA	ns1.example.net. hostmaster.example.net. 7 3600 900 1209600 300
@	IN	NS	ns1.example.net.
1	IN	PTR	host1.example.net.
25	IN	PTR	MAIL.example.net.
`), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`1|PTR|host1.example.net.|86400|1`,
		`25|PTR|mail.example.net.|86400|1`,
		`@|NS|ns1.example.net.|86400|1`,
		`@|SOA|ns1.example.net. hostmaster.example.net. 7 3600 900 1209600 300|86400|1`,
	}
	if d := diffLines(f.rows(t, "2.0.192.in-addr.arpa."), want); d != "" {
		t.Fatalf("rows differ:\n%s", d)
	}
	for _, r := range f.rows(t, "2.0.192.in-addr.arpa.") {
		if strings.Contains(r, "in-addr.arpa|") {
			t.Fatalf("absolute hostname in %s", r)
		}
	}
}
