package dnsserver

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
)

// TestTemplatesMatchResolution asks, for every probe of the differential
// test whose name does not exist, that name and two more below the same
// closest encloser (one in mixed case), of a server that answers names
// that do not exist from closest-encloser templates (in the UDP fast path
// and in the full path) and of a server that resolves every query from
// its index. The answers must say the same.
func TestTemplatesMatchResolution(t *testing.T) {
	tmpl, direct, probes := packedAndDirect(t, append(corpusZones(t, loadTestZones(t)), hostingZones(t, 20)...))
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
	fast, rendered := 0, 0
	for _, p := range probes {
		sz := tmpl.snap.Load().find(canon(p.Name), p.QType)
		if sz == nil || sz.exists(canon(p.Name)) || p.Name == "." {
			continue
		}
		for i, name := range []string{p.Name, "q7." + p.Name, "Zz9-X." + p.Name} {
			q := p
			q.Name = name
			m := q.Msg()
			m.Id = 777
			pkt, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			want, ok := direct.slowReply(pkt, from, nil)
			if !ok {
				t.Fatalf("%s: no reply", q)
			}
			got, ok := tmpl.fastReplyInfo(tmpl.snap.Load(), pkt, nil, nil, nil)
			if ok {
				fast++
			} else {
				if got, ok = tmpl.slowReply(pkt, from, nil); !ok {
					t.Fatalf("%s: no reply", q)
				}
				if i > 0 {
					rendered++
				}
			}
			sameAnswer(t, q.String(), got, want)
		}
	}
	if fast == 0 || rendered == 0 {
		t.Fatalf("fast path answered %d from templates, the full path %d after the first name: want both above 0", fast, rendered)
	}
	t.Logf("%d answers from templates in the fast path, %d more through the full path", fast, rendered)
}

// sameAnswer fails unless the two packed replies decode to the same
// message.
func sameAnswer(t *testing.T, what string, got, want []byte) {
	t.Helper()
	g, w := new(dns.Msg), new(dns.Msg)
	if err := w.Unpack(want); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := g.Unpack(got); err != nil {
		t.Fatalf("%s: the answer does not decode: %v", what, err)
	}
	if g.String() != w.String() {
		t.Fatalf("%s: answered\n%v\nresolved from the index\n%v", what, g, w)
	}
}

// TestRenderTemplateCompresses checks that a rendered answer points into
// its question for the names that end like the query name, whatever
// their length and case, and that a template it did not make is refused.
func TestRenderTemplateCompresses(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("abc.example.org.", dns.TypeA)
	m.Response, m.Rcode = true, dns.RcodeNameError
	soa, err := dns.NewRR("example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 2 3 4 5")
	if err != nil {
		t.Fatal(err)
	}
	m.Ns = []dns.RR{soa}
	tmpl, err := makeTemplate(m, "abc.example.org.")
	if err != nil {
		t.Fatal(err)
	}
	for _, qname := range []string{"a.example.org.", "Much-Longer-Label.EXAMPLE.org."} {
		var qn [256]byte
		n, err := dns.PackDomainName(qname, qn[:], 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		out, ok := renderTemplate(tmpl, qn[:n], nil)
		if !ok {
			t.Fatalf("%s: not rendered", qname)
		}
		r := new(dns.Msg)
		if err := r.Unpack(out); err != nil {
			t.Fatalf("%s: %v", qname, err)
		}
		if r.Question[0].Name != qname || len(r.Ns) != 1 || !strings.EqualFold(r.Ns[0].String(), soa.String()) {
			t.Fatalf("%s: rendered as\n%v", qname, r)
		}
		if packed, _ := m.Pack(); len(out) > len(packed)+n {
			t.Fatalf("%s: %d bytes, names not compressed", qname, len(out))
		}
	}
	m.Compress = true
	compressed, _ := m.Pack()
	if _, ok := renderTemplate(compressed, []byte("\x01a\x00"), nil); ok {
		t.Fatal("rendered a compressed message")
	}
	if _, ok := renderTemplate(tmpl[:len(tmpl)-1], []byte("\x01a\x00"), nil); ok {
		t.Fatal("rendered a cut-short template")
	}
}

// TestAnswerCacheTable puts answers from several goroutines while others
// read: every answer put is found under its key with its bytes, the
// shared bound is kept, and a dropped cache gives its count back.
func TestAnswerCacheTable(t *testing.T) {
	b := newCacheBudget(1500)
	c := newAnswerCache(b)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := fmt.Sprintf("k%d-%d", w, i)
				c.put(k, []byte("answer "+k))
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := fmt.Sprintf("k%d-%d", w, i)
				if v, ok := c.get(k); ok && string(v) != "answer "+k {
					t.Errorf("%s: got %q", k, v)
				}
			}
		}()
	}
	wg.Wait()
	if n := c.len(); n != 1500 || b.n.Load() != 1500 {
		t.Fatalf("%d cached, budget counts %d; want the bound, 1500", n, b.n.Load())
	}
	found := 0
	for w := range 4 {
		for i := range 500 {
			k := fmt.Sprintf("k%d-%d", w, i)
			if v, ok := c.get(k); ok {
				if string(v) != "answer "+k {
					t.Fatalf("%s: got %q", k, v)
				}
				found++
			}
		}
	}
	if found != 1500 {
		t.Fatalf("%d answers found, want 1500", found)
	}
	c.drop()
	if b.n.Load() != 0 {
		t.Fatalf("budget counts %d after the drop", b.n.Load())
	}
	auto := newCacheBudget(0)
	auto.scale(100)
	if auto.max.Load() != minCacheEntries {
		t.Fatalf("default bound for 100 zones %d", auto.max.Load())
	}
	auto.scale(100000)
	if auto.max.Load() != 100000*perZoneEntries {
		t.Fatalf("default bound for 100,000 zones %d", auto.max.Load())
	}
}

// TestPackedAnswersMatchResolution asks every UDP probe of the
// differential test over the corpus and 30 hosting zones, in each probe's
// shape and with RD cleared and set, of a server without an answer cache
// (so that every answer it can build from the packed zone is built so)
// and of a server that resolves everything from its index. The answers
// must say the same, and the hosting zones' names must have been answered
// from the packed form.
func TestPackedAnswersMatchResolution(t *testing.T) {
	set := append(corpusZones(t, loadTestZones(t)), hostingZones(t, 30)...)
	s := New(Options{Logger: quietLogger(), CacheEntries: -1})
	if failed := s.Apply(set, nil); failed != nil {
		t.Fatal(failed)
	}
	_, direct, probes := packedAndDirect(t, set)
	// Names below the hosting zones' hosts (NXDOMAIN: the apex wildcard
	// does not reach them) and under the apex wildcard, every type the
	// packed form answers or declines.
	for _, z := range set[len(set)-30:] {
		for _, n := range []string{"zz1.www.", "Zz2.mail.", "zz3.", "a.b.zz4."} {
			for _, qt := range []uint16{dns.TypeSOA, dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeANY, dns.TypeNS, dns.TypeSRV} {
				for _, v := range []dnsdiff.Variant{dnsdiff.VPlain, dnsdiff.VEDNS, dnsdiff.VDO, dnsdiff.VSmall} {
					probes = append(probes, dnsdiff.Probe{Name: n + z.Origin, QType: qt, V: v})
				}
			}
		}
	}
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
	before := packedAnswers.Load()
	for _, p := range probes {
		for _, rd := range []bool{false, true} {
			m := p.Msg()
			m.Id, m.RecursionDesired = 4343, rd
			pkt, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			want, ok := direct.slowReply(pkt, from, nil)
			if !ok {
				continue // dropped by both (checked by the other tests)
			}
			got, ok := s.fastReplyInfo(s.snap.Load(), pkt, nil, nil, nil)
			if !ok {
				continue
			}
			sameAnswer(t, fmt.Sprintf("%s RD=%v", p, rd), got, want)
		}
	}
	n := packedAnswers.Load() - before
	if n < 500 {
		t.Fatalf("%d answers built from packed zones, want hundreds", n)
	}
	t.Logf("%d answers built from packed zones", n)
}
