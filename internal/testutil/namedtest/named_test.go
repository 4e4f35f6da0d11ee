package namedtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const zoneV1 = `$TTL 300
@ SOA ns.example.test. h.example.test. 1 3600 600 86400 300
@ NS ns
ns A 192.0.2.1
www A 192.0.2.10
`

func TestStartServesAndRndcReloads(t *testing.T) {
	n := Start(t, map[string]string{"example.test": zoneV1})
	if got := soaSerial(t, n, "tcp"); got != 1 {
		t.Fatalf("serial over TCP = %d, want 1", got)
	}
	if err := n.Rndc("status"); err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(zoneV1, " 1 3600", " 2 3600", 1)
	if err := os.WriteFile(filepath.Join(n.Dir, "example.test.db"), []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.Rndc("reload", "example.test"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for soaSerial(t, n, "udp") != 2 {
		if time.Now().After(deadline) {
			t.Fatal("serial 2 not served after rndc reload")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := n.Rndc("no-such-command"); err == nil {
		t.Fatal("rndc accepted a bad command")
	}
}

func soaSerial(t *testing.T, n *Named, network string) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeSOA)
	r, err := n.Exchange(m, network)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 {
		t.Fatalf("SOA answer: %v", r)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

func TestStartTwoInstances(t *testing.T) {
	a := Start(t, map[string]string{"example.test": zoneV1})
	b := Start(t, map[string]string{"example.test": zoneV1})
	if a.Addr == b.Addr || a.ControlAddr == b.ControlAddr {
		t.Fatalf("instances share ports: %s/%s and %s/%s", a.Addr, a.ControlAddr, b.Addr, b.ControlAddr)
	}
}

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func reply(t *testing.T, f func(*dns.Msg), rrs ...[]string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.Response, m.Authoritative = true, true
	sections := []*[]dns.RR{&m.Answer, &m.Ns, &m.Extra}
	for i, sec := range rrs {
		for _, s := range sec {
			*sections[i] = append(*sections[i], rr(t, s))
		}
	}
	if f != nil {
		f(m)
	}
	return m
}

func TestDiff(t *testing.T) {
	a := "www.example.test. 300 IN A 192.0.2.10"
	b := "www.example.test. 300 IN A 192.0.2.11"
	ns := "example.test. 300 IN NS ns.example.test."
	glue := "ns.example.test. 300 IN A 192.0.2.1"
	soa := "example.test. 300 IN SOA ns.example.test. h.example.test. 1 3600 600 86400 300"
	referral := func(m *dns.Msg) { m.Authoritative = false }
	tests := []struct {
		name      string
		want, got *dns.Msg
		diffs     int // Diff
		all       int // DiffAll
	}{
		{"equal in another order", reply(t, nil, []string{a, b}), reply(t, nil, []string{b, a}), 0, 0},
		{"names compare case-insensitively", reply(t, nil, []string{a}, []string{ns}),
			reply(t, nil, []string{strings.ToUpper(a[:16]) + a[16:]}, []string{"EXAMPLE.test. 300 IN NS NS.example.TEST."}), 0, 0},
		{"TXT data is case-sensitive", reply(t, nil, []string{`www.example.test. 300 IN TXT "a"`}),
			reply(t, nil, []string{`www.example.test. 300 IN TXT "A"`}), 2, 2},
		{"TTL matters", reply(t, nil, []string{a}), reply(t, nil, []string{strings.Replace(a, "300", "301", 1)}), 2, 2},
		{"missing record", reply(t, nil, []string{a, b}), reply(t, nil, []string{a}), 1, 1},
		{"rcode and AA", reply(t, nil), reply(t, func(m *dns.Msg) { m.Rcode = dns.RcodeNameError; m.Authoritative = false }), 2, 2},
		{"authority of a positive answer only with DiffAll", reply(t, nil, []string{a}, []string{ns}), reply(t, nil, []string{a}), 0, 1},
		{"authority of a negative answer", reply(t, nil, nil, []string{soa}), reply(t, nil, nil, nil), 1, 1},
		{"additional of a referral", reply(t, referral, nil, []string{ns}, []string{glue}), reply(t, referral, nil, []string{ns}), 1, 1},
		{"additional of an answer only with DiffAll", reply(t, nil, []string{a}, nil, []string{glue}), reply(t, nil, []string{a}), 0, 1},
		{"truncated answers compare headers", reply(t, func(m *dns.Msg) { m.Truncated = true }, []string{a}),
			reply(t, func(m *dns.Msg) { m.Truncated = true }, []string{b}), 0, 0},
		{"TC differs", reply(t, func(m *dns.Msg) { m.Truncated = true }), reply(t, nil), 1, 1},
		{"EDNS presence and DO", reply(t, func(m *dns.Msg) { m.SetEdns0(1232, true) }), reply(t, func(m *dns.Msg) { m.SetEdns0(1232, false) }), 1, 1},
		{"OPT is not a record", reply(t, func(m *dns.Msg) { m.Authoritative = false; m.Ns = []dns.RR{rr(t, ns)}; m.SetEdns0(512, false) }),
			reply(t, func(m *dns.Msg) { m.Authoritative = false; m.Ns = []dns.RR{rr(t, ns)}; m.SetEdns0(1232, false) }), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := Diff(tt.want, tt.got); len(d) != tt.diffs {
				t.Errorf("Diff = %q, want %d lines", d, tt.diffs)
			}
			if d := DiffAll(tt.want, tt.got); len(d) != tt.all {
				t.Errorf("DiffAll = %q, want %d lines", d, tt.all)
			}
		})
	}
}
