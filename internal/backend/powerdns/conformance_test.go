package powerdns

import (
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// TestConformance runs the suite with a pdns_server reading each
// backend's database: Verify then also checks the SOA serial PowerDNS
// serves.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New: func(t *testing.T) backend.Backend {
			f := newFixture(t)
			p := f.pdns(t)
			f.b.opt.VerifyAddress = p.Addr
			return f.b
		},
		Unstorable: unstorable,
		BatchSize:  600, // more than one IN list and one INSERT
	})
}

// unstorable has a TTL PowerDNS's signed INT ttl column cannot hold.
func unstorable(t *testing.T) *zone.Zone {
	z, err := zone.Parse("ttl.example", []byte(`$TTL 3600
@	IN	SOA	ns1 hostmaster 1 3600 3600 1209600 86400
@	IN	NS	ns1
ns1	2147483648	IN	A	192.0.2.1
`), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}
