package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
)

// query is one line of a dnsperf query file.
type query struct {
	name  string // absolute, with the trailing dot
	qtype string
}

// queryKind draws one query for zone z; weight is its share in percent.
type queryKind struct {
	label  string
	weight int
	draw   func(rng *rand.Rand, z *benchZone) query
}

// queryMix is what resolvers ask a hosting provider's DNS: mostly names
// that exist, some types that do not, names caught by the wildcard, and
// about 10% NXDOMAIN in hosted zones (names below existing hosts, where the
// apex wildcard does not reach, and DKIM selectors the zone lacks).
var queryMix = []queryKind{
	{"www A", 18, fixed("www.", "A")},
	{"@ MX", 12, fixed("", "MX")},
	{"mail AAAA", 10, fixed("mail.", "AAAA")},
	{"@ TXT", 10, fixed("", "TXT")},
	{"_dmarc TXT", 10, fixed("_dmarc.", "TXT")},
	{"wildcard A", 15, wildcard("A")},
	{"no such type", 15, noData},
	{"nxdomain", 10, nxDomain},
}

// fixed asks for one existing name (prefix + zone) and type.
func fixed(prefix, qtype string) func(*rand.Rand, *benchZone) query {
	return func(_ *rand.Rand, z *benchZone) query {
		return query{prefix + z.name + ".", qtype}
	}
}

// wildcard asks for a random name directly under the apex.
func wildcard(qtype string) func(*rand.Rand, *benchZone) query {
	return func(rng *rand.Rand, z *benchZone) query {
		return query{randomLabel(rng) + "." + z.name + ".", qtype}
	}
}

// noData asks for a type its name does not have (NOERROR, no answer).
func noData(rng *rand.Rand, z *benchZone) query {
	choices := []query{
		{"www." + z.name + ".", "MX"},
		{"ftp." + z.name + ".", "TXT"},
		{z.name + ".", "SRV"},
		{"mail." + z.name + ".", "CAA"},
		{randomLabel(rng) + "." + z.name + ".", "AAAA"}, // the wildcard has only A
	}
	return choices[rng.IntN(len(choices))]
}

// nxDomain asks for a name that does not exist in a hosted zone.
func nxDomain(rng *rand.Rand, z *benchZone) query {
	selectors := []string{"default", "google", "s1", "selector1", "k1"}
	choices := []query{
		{randomLabel(rng) + ".www." + z.name + ".", "A"},
		{randomLabel(rng) + ".mail." + z.name + ".", "AAAA"},
		{selectors[rng.IntN(len(selectors))] + "._domainkey." + z.name + ".", "TXT"},
	}
	return choices[rng.IntN(len(choices))]
}

// randomLabel returns 6 to 10 lower-case letters and digits.
func randomLabel(rng *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6+rng.IntN(5))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// queryLines is how many queries a file holds for n zones: enough that
// every zone is asked about many times before dnsperf starts over.
func queryLines(n int) int {
	return min(max(20*n, 20000), 500000)
}

// makeQueries draws n queries over zones, the same for the same seed.
func makeQueries(seed uint64, zones []*benchZone, n int) []query {
	qs := make([]query, 0, n)
	drawQueries(seed, zones, n, func(q query) { qs = append(qs, q) })
	return qs
}

// drawQueries draws n queries over zones, the same for the same seed,
// handing each to use.
func drawQueries(seed uint64, zones []*benchZone, n int, use func(query)) {
	rng := rand.New(rand.NewPCG(seed, 0x7175657279))
	total := 0
	for _, k := range queryMix {
		total += k.weight
	}
	for range n {
		use(pickKind(rng, total).draw(rng, zones[rng.IntN(len(zones))]))
	}
}

// pickKind draws a kind from queryMix by weight.
func pickKind(rng *rand.Rand, total int) queryKind {
	x := rng.IntN(total)
	for _, k := range queryMix {
		if x < k.weight {
			return k
		}
		x -= k.weight
	}
	return queryMix[len(queryMix)-1]
}

// writeQueries draws n queries over zones and writes them to path in
// dnsperf's "name type" format, one at a time; it returns sample of them
// spread evenly over the file (sampleQueries's choice).
func writeQueries(path string, seed uint64, zones []*benchZone, n, sample int) ([]query, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("dadnsbench: write queries: %w", err)
	}
	w := bufio.NewWriter(f)
	var kept []query
	next, k := 0, 0
	drawQueries(seed, zones, n, func(q query) {
		fmt.Fprintf(w, "%s %s\n", q.name, q.qtype)
		if n <= sample || (k < sample && next == k*n/sample) {
			kept = append(kept, q)
			k++
		}
		next++
	})
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("dadnsbench: write queries: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("dadnsbench: write queries: %w", err)
	}
	return kept, nil
}
