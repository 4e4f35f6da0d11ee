package zone

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/hostingzone"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// BenchmarkParse parses a typical DirectAdmin zone: 24 records with a
// 2048-bit DKIM key split in two strings.
func BenchmarkParse(b *testing.B) { benchParseDKIM(b, Parse) }

// benchParseDKIM parses testdata/dkim.example.db with parse, reporting
// bytes, allocations and CPU per parse.
func benchParseDKIM(b *testing.B, parse func(Name, []byte, Limits) (*Zone, error)) {
	text, err := os.ReadFile("testdata/dkim.example.db")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	cpu := procstat.SelfCPU()
	for b.Loop() {
		if _, err := parse("dkim.example", text, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the process's CPU time per operation since start
// (garbage collection included).
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(procstat.SelfCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkParseGeneral is BenchmarkParse through the general path alone
// (miekg/dns's zone parser): what every push paid before the fast path.
func BenchmarkParseGeneral(b *testing.B) { benchParseDKIM(b, parseGeneral) }

// BenchmarkPushZoneWork is the zone work of one DirectAdmin push, over 64
// different generated zones of the bench's shape (18 records, a 2048-bit
// DKIM key): Parse (validation, canonical text, hash), then the Text and
// Hash the push stores. general=true runs the general path alone.
func BenchmarkPushZoneWork(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	type in struct {
		name Name
		text []byte
	}
	var zones []in
	for i := range 64 {
		n := Name(fmt.Sprintf("site%d.example", i))
		zones = append(zones, in{n, []byte(hostingzone.Text(rng, string(n)))})
	}
	for _, general := range []bool{false, true} {
		b.Run(fmt.Sprintf("general=%v", general), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu := procstat.SelfCPU()
			for b.Loop() {
				z := zones[i%len(zones)]
				i++
				parse := Parse
				if general {
					parse = parseGeneral
				}
				got, err := parse(z.name, z.text, Limits{})
				if err != nil || got.Text() == "" || got.Hash() == "" {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}
