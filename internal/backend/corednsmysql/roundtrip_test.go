package corednsmysql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// TestSharedZonesRoundTrip writes every sample zone (testdata/zones, a
// copy of the project's shared/zones) and rebuilds it from the rows: the
// canonical hash must be that of the zone as pushed (minus DNSSEC records, which none of them carry in-zone).
func TestSharedZonesRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "zones", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample zones found in testdata/zones (%v)", err)
	}
	f := newFixture(t)
	var zones []*zone.Zone
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		z, err := zone.Parse(zone.Name(strings.TrimSuffix(filepath.Base(file), ".db")), text, zone.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		zones = append(zones, z)
	}
	if err := f.b.Apply(testCtx(t), zones); err != nil {
		t.Fatal(err)
	}
	for _, z := range zones {
		s, err := Stored(z)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.b.Zone(testCtx(t), z.Name)
		if err != nil {
			t.Fatalf("%s: %v", z.Name, err)
		}
		if got.Hash() != s.Hash() {
			t.Fatalf("%s rebuilt from rows:\n%s\nwant\n%s", z.Name, got.Text(), s.Text())
		}
		if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
			t.Fatal(err)
		}
		if n := len(f.rows(t, z.Name.FQDN())); n != len(s.Records) {
			t.Fatalf("%s: %d rows for %d records", z.Name, n, len(s.Records))
		}
	}
}

// signedZone is a zone carrying the records a signer adds.
const signedZone = `$TTL 3600
@	IN	SOA	ns1 hostmaster 5 3600 900 1209600 300
@	IN	NS	ns1
ns1	IN	A	192.0.2.1
@	IN	DNSKEY	257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
@	IN	RRSIG	SOA 13 2 3600 20260201000000 20260101000000 12345 signed.example. dGVzdHNpZ25hdHVyZXRlc3RzaWduYXR1cmV0ZXN0c2lnbmF0dXJldGVzdHNpZ25hdHVyZQ==
@	IN	NSEC	ns1.signed.example. NS SOA RRSIG NSEC DNSKEY
@	IN	NSEC3PARAM	1 0 0 -
`

// TestSignedZoneStoresProjection checks DNSSEC records are skipped, not
// refused, and that Verify accepts the pushed hash for the projection.
func TestSignedZoneStoresProjection(t *testing.T) {
	f := newFixture(t)
	z, err := zone.Parse("signed.example", []byte(signedZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.AuditZone(z); err != nil {
		t.Fatalf("audit refused a signed zone: %v", err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`@|NS|ns1.signed.example.|3600|1`,
		`@|SOA|ns1.signed.example. hostmaster.signed.example. 5 3600 900 1209600 300|3600|1`,
		`ns1|A|192.0.2.1|3600|1`,
	}
	if d := diffLines(f.rows(t, "signed.example."), want); d != "" {
		t.Fatalf("rows:\n%s", d)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatal(err)
	}
	s, _ := Stored(z)
	got, err := f.b.Zone(testCtx(t), z.Name)
	if err != nil || got.Hash() != s.Hash() || s.Hash() == z.Hash() {
		t.Fatalf("Zone() = %v, %v; want the projection", got, err)
	}
}
