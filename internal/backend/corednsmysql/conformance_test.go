package corednsmysql

import (
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New:        func(t *testing.T) backend.Backend { return newFixture(t).b },
		Unstorable: unstorable,
		BatchSize:  600, // more than one IN list and one INSERT
	})
}

// unstorable has a TTL the plugin's signed INT column cannot hold.
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
