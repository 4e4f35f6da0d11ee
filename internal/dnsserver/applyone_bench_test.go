package dnsserver

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// BenchmarkApplyOne measures a push of one zone into a server holding
// DNSSERVER_ZONES (10,000 by default) hosting-shaped zones: the cost of
// copying the part of the served set the zone falls in, packing included.
func BenchmarkApplyOne(b *testing.B) {
	zones := 10000
	if v, err := strconv.Atoi(os.Getenv("DNSSERVER_ZONES")); err == nil && v > 0 {
		zones = v
	}
	s := New(Options{Logger: quietLogger()})
	set := hostingZones(b, zones)
	if failed := s.Apply(set, nil); failed != nil {
		b.Fatal(failed)
	}
	z := set[zones/2]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := *z
		c.Hash = fmt.Sprintf("v%d", i) // a new version each time
		i++
		if failed := s.Apply([]*Zone{&c}, nil); failed != nil {
			b.Fatal(failed)
		}
	}
}
