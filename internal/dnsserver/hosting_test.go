package dnsserver

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"github.com/dadns/dadns/internal/testutil/hostingzone"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// hostingZones returns n hosting-shaped zones, site0.example. upwards.
func hostingZones(tb testing.TB, n int) []*Zone {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]*Zone, n)
	for i := range out {
		name := fmt.Sprintf("site%d.example", i)
		out[i] = mustZone(tb, name+".", hostingzone.Text(rng, name))
	}
	return out
}

// hostingQueries draws n packed queries in the bench's mix (names that
// exist, missing types, wildcard names, NXDOMAIN) over zones 0..zones-1.
func hostingQueries(tb testing.TB, zones, n int) [][]byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([][]byte, n)
	for i := range out {
		name, t := hostingzone.Question(rng, zones)
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
// cache bound and the number of decoded zones, DNSSERVER_ZONES the
// number of zones (10,000 by default). DNSSERVER_AB=1 measures with and
// without the zone table's cache hints, DNSSERVER_AB=counts with and
// without per-zone counts, DNSSERVER_AB=batch one query at a time and in
// the UDP loop's batches (udpLoop.prefetch), alternately in one process.
func BenchmarkHostingMix(b *testing.B) {
	zones := 10000
	if v, err := strconv.Atoi(os.Getenv("DNSSERVER_ZONES")); err == nil && v > 0 {
		zones = v
	}
	if v, err := strconv.Atoi(os.Getenv("DNSSERVER_DECODED")); err == nil {
		defer func(old int) { decodedZones = old }(decodedZones)
		decodedZones = v
	}
	entries, _ := strconv.Atoi(os.Getenv("DNSSERVER_CACHE"))
	ab := os.Getenv("DNSSERVER_AB")
	s := New(Options{Logger: quietLogger(), CacheEntries: entries, ZoneCounts: ab == "counts"})
	if failed := s.Apply(hostingZones(b, zones), nil); failed != nil {
		b.Fatal(failed)
	}
	qs := hostingQueries(b, zones, 200000)
	key, out := make([]byte, 0, 260), make([]byte, 0, 4096)
	var count bool // per-zone counts as the UDP loop's hook takes them
	var scratch []byte
	var info replyInfo // one for all: as in the UDP loop (a local escapes)
	answer := func(pkt []byte) {
		var ok bool
		info = replyInfo{}
		if out, ok = s.fastReplyInfo(s.snap.Load(), pkt, key, out, &info); !ok {
			if out, ok = s.slowReplyInfo(pkt, nil, out, &info); !ok {
				b.Fatal("no reply")
			}
		}
		if count {
			if info.counter != nil {
				info.counter.add(out)
			} else {
				scratch = s.zstats.count(out, scratch)
			}
		}
	}
	// The UDP loop's batches (DNSSERVER_AB=batch): prefetch a batch of
	// udpBatch packets, then answer them, as serve does.
	var batched bool
	l := newLoopBuffers(s, false)
	msgs := make([]ipv4.Message, len(qs))
	for i, q := range qs {
		buf := make([]byte, len(q)+1) // a full buffer reads as cut short
		copy(buf, q)
		msgs[i] = ipv4.Message{Buffers: [][]byte{buf}, N: len(q)}
	}
	answerAt := func(i int) {
		if !batched {
			answer(qs[i%len(qs)])
			return
		}
		j := i % udpBatch
		if j == 0 {
			start := i % len(qs)
			end := min(start+udpBatch, len(qs))
			l.rx = msgs[start:end]
			l.prefetch(s.snap.Load(), end-start)
		}
		if j >= len(l.rx) {
			answer(qs[i%len(qs)])
			return
		}
		var ok bool
		info := &l.info
		*info = replyInfo{}
		if out, ok = l.answerPrepared(s.snap.Load(), j, out, info); !ok {
			b.Fatal("no reply")
		}
	}
	if os.Getenv("DNSSERVER_WARM") != "" {
		for _, pkt := range qs {
			answer(pkt) // one pass first: the steady state is measured
		}
	}
	measure := func(b *testing.B) {
		b.ReportAllocs()
		start, cpu0 := decodes.Load(), procstat.SelfCPU()
		i := 0
		for b.Loop() {
			answerAt(i)
			i++
		}
		// CPU time, unlike ns/op, does not count time other processes of
		// a shared machine took the core.
		b.ReportMetric(float64(procstat.SelfCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(decodes.Load()-start)/float64(b.N), "decodes/op")
		b.ReportMetric(float64(s.budget.n.Load()), "cached")
	}
	switch ab {
	case "":
		measure(b)
	case "counts":
		// A/B in one process, on the same zones and cache: with and
		// without per-zone counts, alternately.
		for r := range 4 {
			for _, c := range []bool{false, true} {
				count = c
				b.Run(fmt.Sprintf("counts=%v/%d", c, r), measure)
			}
		}
	case "batch":
		// One packet at a time, and in the loop's batches, alternately.
		for r := range 4 {
			for _, bt := range []bool{false, true} {
				batched = bt
				b.Run(fmt.Sprintf("batch=%v/%d", bt, r), measure)
			}
		}
	default:
		// The fast path with and without the zone table's cache hints.
		for r := range 4 {
			for _, noHint := range []bool{false, true} {
				s.noHint = noHint
				b.Run(fmt.Sprintf("nohint=%v/%d", noHint, r), measure)
			}
		}
		s.noHint = false
	}
}
