package dnsserver

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
)

// directServer serves set with each zone's index built straight from the
// records given (the form the server answered from before zones were kept
// packed), never decoded from wire form and never evicted.
func directServer(t *testing.T, set []*Zone) *Server {
	t.Helper()
	s := New(Options{Logger: quietLogger()})
	s.noTemplates, s.noPacked = true, true
	private := make([]*Zone, len(set))
	for i, z := range set {
		c := *z
		c.Hash = "" // not shared: the index set below stays this server's
		private[i] = &c
	}
	if failed := s.Apply(private, nil); failed != nil {
		t.Fatal(failed)
	}
	for i, z := range set {
		sz := s.snap.Load().zones.get(canonicalOrigin(z.Origin))
		ix, err := buildIndex(private[i])
		if err != nil {
			t.Fatal(err)
		}
		ix.packed = sz.packedZone
		sz.ix.Store(ix)
	}
	return s
}

// packedAndDirect serves set from a server as configured by default and
// from directServer, and returns them with the differential test's probes
// of set.
func packedAndDirect(t *testing.T, set []*Zone) (packed, direct *Server, probes []dnsdiff.Probe) {
	t.Helper()
	packed = New(Options{Logger: quietLogger()})
	if failed := packed.Apply(set, nil); failed != nil {
		t.Fatal(failed)
	}
	dz := make([]dnsdiff.Zone, len(set))
	for i, z := range set {
		dz[i] = dnsdiff.Zone{Origin: z.Origin, RRs: z.RRs}
	}
	return packed, directServer(t, set), dnsdiff.Probes(dz)
}

// withDecoded runs the test with at most n decoded zones in the process.
func withDecoded(t *testing.T, n int) {
	old := decodedZones
	decodedZones = n
	t.Cleanup(func() { decodedZones = old })
}

// TestPackedAnswersAsDirect asks every probe of the differential test
// (every name and type of the corpus, names below them, every variant)
// of a server answering from the packed zones, with room for only two
// decoded zones so that indexes are evicted and decoded again all along,
// and of a server answering from indexes built from the records as
// given without the answers for names that do not exist kept by closest
// encloser (template.go). The replies must say the same: same header, same records in the
// same order (they may differ in bytes only where miekg/dns compresses a
// name spelled with escapes differently from its decoded spelling).
func TestPackedAnswersAsDirect(t *testing.T) {
	withDecoded(t, 2)
	packed, direct, probes := packedAndDirect(t, corpusZones(t, loadTestZones(t)))
	differ := 0
	for round := range 2 { // the second round answers from the caches
		for _, p := range probes {
			for _, tcp := range []bool{false, true} {
				m := p.Msg()
				m.Id = 4242
				want, err := direct.reply(m, client{tcp: tcp}, nil)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				got, err := packed.reply(m, client{tcp: tcp}, nil)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if bytes.Equal(got, want) {
					continue
				}
				differ++
				w, g := new(dns.Msg), new(dns.Msg)
				if err := w.Unpack(want); err != nil {
					t.Fatal(err)
				}
				if err := g.Unpack(got); err != nil {
					t.Fatal(err)
				}
				if g.String() != w.String() {
					t.Fatalf("round %d, %s (tcp %v): packed answers\n%v\nthe records as given answer\n%v", round, p, tcp, g, w)
				}
			}
		}
	}
	t.Logf("%d probes × UDP and TCP × 2 rounds: same answers (%d compressed differently)", len(probes), differ)
}

// TestPackedZoneRoundTrip checks that every corpus zone reads back from
// its packed form as the records it was applied with.
func TestPackedZoneRoundTrip(t *testing.T) {
	set := corpusZones(t, loadTestZones(t))
	s := New(Options{Logger: quietLogger()})
	if failed := s.Apply(set, nil); failed != nil {
		t.Fatal(failed)
	}
	for _, z := range set {
		got, ok := s.Zone(z.Origin)
		if !ok {
			t.Fatalf("%s not served", z.Origin)
		}
		if got.Hash != z.Hash || !sameWire(t, got.RRs, z.RRs) {
			t.Fatalf("%s reads back as\n%v\nwant\n%v", z.Origin, got.RRs, z.RRs)
		}
	}
}

// TestZonesSharedBetweenServers checks that two servers given the same
// zones hold one packed copy of each, that a changed zone gets its own,
// and that a copy no server holds any more leaves the shared table.
func TestZonesSharedBetweenServers(t *testing.T) {
	set := hostingZones(t, 50)
	a := New(Options{Logger: quietLogger()})
	b := New(Options{Logger: quietLogger()})
	a.Apply(set, nil)
	b.Apply(set, nil)
	for _, z := range set {
		za, zb := a.snap.Load().zones.get(z.Origin), b.snap.Load().zones.get(z.Origin)
		if za.packedZone != zb.packedZone {
			t.Fatalf("%s: the two servers hold two copies", z.Origin)
		}
		if za.cache == zb.cache {
			t.Fatalf("%s: the two servers share one answer cache", z.Origin)
		}
	}
	// A new version on one server only: the servers hold different
	// packed zones for it from then on.
	changed := mustZone(t, "site7.example.", "@ 300 SOA ns h 99 1 1 1 1\n@ 300 NS ns.site7.example.\nns 300 A 192.0.2.7\n")
	a.Apply([]*Zone{changed}, nil)
	if a.snap.Load().zones.get("site7.example.").packedZone == b.snap.Load().zones.get("site7.example.").packedZone {
		t.Fatal("a changed zone shares the old zone's packed form")
	}
	key := shareKey{"site7.example.", changed.Hash}
	if !sharedHolds(key) {
		t.Fatal("the new version is not in the shared table")
	}
	a.Apply(nil, []string{"site7.example."})
	deadline := time.Now().Add(20 * time.Second)
	for sharedHolds(key) {
		if time.Now().After(deadline) {
			t.Fatal("a zone no server serves stays in the shared table")
		}
		evictDecoded(changed.Origin)
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(b)
}

// sharedHolds reports whether the shared table has a live zone for key.
func sharedHolds(key shareKey) bool {
	sharedZones.mu.Lock()
	defer sharedZones.mu.Unlock()
	w, ok := sharedZones.m[key]
	return ok && w.Value() != nil
}

// evictDecoded drops origin's zones from the decoded ring, which holds
// them strongly.
func evictDecoded(origin string) {
	decoded.mu.Lock()
	defer decoded.mu.Unlock()
	for i, p := range decoded.ring {
		if p != nil && p.origin == origin {
			p.ix.Store(nil)
			decoded.ring[i] = nil
		}
	}
}

// cacheLen returns the number of answers cached for origin.
func cacheLen(s *Server, origin string) int64 {
	return s.snap.Load().zones.get(origin).cache.len()
}

func askA(t *testing.T, s *Server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	return ask(t, s, name, qtype)
}

// TestCachePerZone checks that a push of one zone drops only that zone's
// cached answers, and that a new zone below a served one takes its names
// over at once, its parent's cached answers dropped.
func TestCachePerZone(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	zoneA := mustZone(t, "a.test.", "@ 300 SOA ns h 1 1 1 1 1\n@ 300 NS ns\nns 300 A 192.0.2.1\nwww 300 A 192.0.2.10\n")
	zoneB := mustZone(t, "b.test.", "@ 300 SOA ns h 1 1 1 1 1\n@ 300 NS ns\nns 300 A 192.0.2.2\nwww 300 A 192.0.2.20\n"+
		"www.c 300 A 192.0.2.30\nalias 300 CNAME www.c\n")
	s.Apply([]*Zone{zoneA, zoneB}, nil)
	for _, n := range []string{"www.a.test.", "www.b.test.", "www.c.b.test.", "alias.b.test."} {
		askA(t, s, n, dns.TypeA)
	}
	bCache := &s.snap.Load().zones.get("b.test.").cache
	if cacheLen(s, "a.test.") == 0 || bCache.len() != 3 {
		t.Fatalf("cached: a %d, b %d; want answers in both (3 in b)", cacheLen(s, "a.test."), bCache.len())
	}

	// A push of a.test.: its cache starts empty, b.test.'s stays.
	zoneA2 := mustZone(t, "a.test.", "@ 300 SOA ns h 2 1 1 1 1\n@ 300 NS ns\nns 300 A 192.0.2.1\nwww 300 A 192.0.2.11\n")
	s.Apply([]*Zone{zoneA2}, nil)
	if n := cacheLen(s, "a.test."); n != 0 {
		t.Fatalf("a.test. keeps %d cached answers after its push", n)
	}
	if &s.snap.Load().zones.get("b.test.").cache != bCache || bCache.len() != 3 {
		t.Fatal("b.test.'s cached answers went with a push of a.test.")
	}
	if r := askA(t, s, "www.a.test.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.11" {
		t.Fatalf("www.a.test. after the push: %v", r)
	}
	// The answer now in b.test.'s cache is used: answering it again
	// must not add an entry.
	askA(t, s, "www.b.test.", dns.TypeA)
	if bCache.len() != 3 {
		t.Fatalf("b.test. cache has %d entries, want 3", bCache.len())
	}

	// A new zone c.b.test.: its names are its own at once (the parent's
	// cached answer for www.c.b.test. is not used), and the parent's
	// CNAME chain into it now stops at the zone boundary, as BIND's does.
	before := askA(t, s, "alias.b.test.", dns.TypeA)
	if len(before.Answer) != 2 {
		t.Fatalf("alias.b.test. before the child zone: %v", before)
	}
	child := mustZone(t, "c.b.test.", "@ 300 SOA ns h 1 1 1 1 1\n@ 300 NS ns\nns 300 A 192.0.2.3\nwww 300 A 192.0.2.99\n")
	s.Apply([]*Zone{child}, nil)
	if r := askA(t, s, "www.c.b.test.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.99" {
		t.Fatalf("www.c.b.test. after its zone was added: %v", r)
	}
	if &s.snap.Load().zones.get("b.test.").cache == bCache {
		t.Fatal("the parent keeps its answer cache when a child zone is added")
	}
	if r := askA(t, s, "alias.b.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("alias.b.test. after the child zone: %v (the chain must stop at the child)", r)
	}
	if s.snap.Load().zones.get("a.test.").cache.len() == 0 {
		t.Fatal("a.test. lost its cache when an unrelated zone was added")
	}

	// The child removed: the parent answers its names again.
	s.Apply(nil, []string{"c.b.test."})
	if r := askA(t, s, "www.c.b.test.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.30" {
		t.Fatalf("www.c.b.test. after its zone was removed: %v", r)
	}
	if r := askA(t, s, "alias.b.test.", dns.TypeA); len(r.Answer) != 2 {
		t.Fatalf("alias.b.test. after the child zone went: %v", r)
	}
}

// TestCacheBudgetShared checks that the answer caches of all zones share
// one bound and that a dropped cache gives its entries back.
func TestCacheBudgetShared(t *testing.T) {
	s := New(Options{Logger: quietLogger(), CacheEntries: 4})
	set := hostingZones(t, 3)
	s.Apply(set, nil)
	for _, z := range set {
		for _, n := range []string{"www.", "ftp.", "mail."} {
			askA(t, s, n+z.Origin, dns.TypeA)
		}
	}
	if n := s.budget.n.Load(); n != 4 {
		t.Fatalf("%d answers cached, want the bound 4", n)
	}
	var total int64
	for _, z := range set {
		total += cacheLen(s, z.Origin)
	}
	if total != 4 {
		t.Fatalf("the zones hold %d cached answers, want 4", total)
	}
	first := set[0].Origin
	held := cacheLen(s, first)
	s.Apply([]*Zone{mustZone(t, first, "@ 300 SOA ns h 1 1 1 1 1\n@ 300 NS ns\nns 300 A 192.0.2.1\n")}, nil)
	if n := s.budget.n.Load(); n != 4-held {
		t.Fatalf("after a push of %s (%d cached): budget counts %d, want %d", first, held, n, 4-held)
	}
}

// sameWire reports whether a and b are the same records in the same
// order, compared in uncompressed wire form.
func sameWire(t *testing.T, a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		wa, wb := make([]byte, dns.Len(a[i])), make([]byte, dns.Len(b[i]))
		na, err := dns.PackRR(a[i], wa, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := dns.PackRR(b[i], wb, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wa[:na], wb[:nb]) {
			return false
		}
	}
	return true
}

// TestPackedNamesAsIndex checks that the name hashes of every packed
// corpus zone (what answers for missing names go by) are exactly the
// names of its index.
func TestPackedNamesAsIndex(t *testing.T) {
	for _, z := range append(corpusZones(t, loadTestZones(t)), hostingZones(t, 3)...) {
		p, err := packZone(z)
		if err != nil {
			t.Fatal(err)
		}
		ix := p.index()
		if len(p.names) != len(ix.nodes) {
			t.Fatalf("%s: %d name hashes, %d index nodes", z.Origin, len(p.names), len(ix.nodes))
		}
		for name := range ix.nodes {
			if !p.exists(name) {
				t.Fatalf("%s: node %s has no name hash", z.Origin, name)
			}
		}
		for name := range ix.nodes {
			if child := "zz-none." + name; p.exists(child) {
				t.Fatalf("%s: %s exists by hash, not in the index", z.Origin, child)
			}
		}
	}
}

// TestTemplateAnswers checks answers for names that do not exist, kept
// once per closest encloser: a wildcard's data, its NODATA and NXDOMAIN
// below a name are each cached once, and every other name below the same
// encloser is answered from that entry (without decoding the zone)
// as the zone answers it.
func TestTemplateAnswers(t *testing.T) {
	withDecoded(t, 1)
	set := hostingZones(t, 3)
	s := New(Options{Logger: quietLogger()})
	s.Apply(set, nil)
	direct := directServer(t, set)
	origin := set[1].Origin
	probes := []struct {
		name  string
		qtype uint16
	}{{"a1", dns.TypeA}, {"b2", dns.TypeAAAA}, {"c3.www", dns.TypeA}, {"d4.mail", dns.TypeMX}, {"sel._domainkey", dns.TypeTXT}}
	for _, p := range probes {
		for i, label := range []string{"first", "Second", "third-one"} {
			name := label + "-" + p.name + "." + origin
			for _, rd := range []bool{false, true} {
				m := new(dns.Msg)
				m.SetQuestion(name, p.qtype)
				m.RecursionDesired = rd
				m.SetEdns0(1232, true)
				want, err := direct.reply(m, client{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				evictDecoded(origin)
				got, err := s.reply(m, client{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if decodedNow := s.snap.Load().zones.get(origin).ix.Load() != nil; i > 0 && decodedNow {
					t.Fatalf("%s: the zone was decoded to answer it, not answered from the cached answer", name)
				}
				// The same answer; names may be compressed differently.
				sameAnswer(t, fmt.Sprintf("%s %s (name %d)", name, dns.TypeToString[p.qtype], i), got, want)
			}
		}
	}
	if n := cacheLen(s, origin); n != int64(2*len(probes)) {
		t.Fatalf("%d answers cached for %d closest encloser, type and flags, want one each", n, 2*len(probes))
	}
}

// TestPackAllInOrder: packAll packs a few zones on the caller's goroutine
// and many in parallel; either way each result is its zone's, in order,
// and a zone packed before is found shared.
func TestPackAllInOrder(t *testing.T) {
	for _, n := range []int{1, 3, 3 * parallelPack} {
		zs := hostingZones(t, n)
		out, errs := packAll(zs)
		again, _ := packAll(zs)
		for i, z := range zs {
			if errs[i] != nil || out[i] == nil {
				t.Fatalf("%d zones: zone %d: %v", n, i, errs[i])
			}
			if out[i].origin != canonicalOrigin(z.Origin) || out[i].hash != z.Hash {
				t.Fatalf("%d zones: result %d is %s %.12s, want %s %.12s", n, i, out[i].origin, out[i].hash, z.Origin, z.Hash)
			}
			if again[i] != out[i] {
				t.Fatalf("%d zones: zone %d packed again, not shared", n, i)
			}
		}
		runtime.KeepAlive(out)
	}
}
