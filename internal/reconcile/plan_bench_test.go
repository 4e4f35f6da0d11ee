package reconcile

import (
	"fmt"
	"testing"

	"github.com/dadns/dadns/internal/push"
)

// BenchmarkMakePlan100k plans 100,000 held zones against one server
// holding the same zones, 1% newer there.
func BenchmarkMakePlan100k(b *testing.B) {
	const n = 100_000
	zones := make([]NodeZone, n)
	s := ServerResult{Host: "da1.example.net", Complete: true, Zones: map[string]bool{}, Owners: map[string]string{}, Serials: map[string]uint32{}}
	for i := range n {
		name := fmt.Sprintf("site%06d.example", i)
		zones[i] = NodeZone{Name: name, Serial: 1, Owner: "da1.example.net", Version: 1}
		s.Zones[name] = true
		s.Owners[name] = "user"
		if i%100 == 0 {
			s.Serials[name] = 2
		}
	}
	in := Input{Zones: zones, Servers: []ServerResult{s}, Owners: push.NewOwners(nil), MaxDeleteFraction: 0.1}
	b.ReportAllocs()
	for b.Loop() {
		if p := MakePlan(in); p.Count(Fetch) != n/100 {
			b.Fatalf("%d fetches", p.Count(Fetch))
		}
	}
}
