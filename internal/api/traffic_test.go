package api

import (
	"context"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/dnsserver"
)

// trafficServer is a real builtin DNS server counting per zone, with
// one.test. and two.test. asked over UDP.
func trafficServer(t *testing.T) *dnsserver.Server {
	t.Helper()
	s := dnsserver.New(dnsserver.Options{ZoneCounts: true})
	var set []*dnsserver.Zone
	for _, o := range []string{"one.test.", "two.test."} {
		soa, _ := dns.NewRR(o + " 300 IN SOA ns." + o + " h." + o + " 1 3600 600 86400 300")
		ns, _ := dns.NewRR(o + " 300 IN NS ns." + o)
		a, _ := dns.NewRR("ns." + o + " 300 IN A 192.0.2.1")
		set = append(set, &dnsserver.Zone{Origin: o, RRs: []dns.RR{soa, ns, a}})
	}
	if failed := s.Apply(set, nil); failed != nil {
		t.Fatal(failed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	udp, _, err := s.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &dns.Client{Timeout: 5 * time.Second}
	ask := func(name string, n int) {
		for range n {
			q := new(dns.Msg)
			q.SetQuestion(name, dns.TypeA)
			if _, _, err := c.Exchange(q, udp.(*net.UDPAddr).String()); err != nil {
				t.Fatal(err)
			}
		}
	}
	ask("ns.one.test.", 6)
	ask("nope.one.test.", 2)
	ask("ns.two.test.", 3)
	return s
}

func TestTrafficInStatusAndAdminAPI(t *testing.T) {
	srv := trafficServer(t)
	traffic := func(top int) any {
		zt, _ := srv.ZoneTraffic(top)
		return map[string]dnsserver.ZoneTraffic{"builtin": zt}
	}
	ws := []dispatch.Status{{Backend: "builtin", Alive: true}}
	h := opsHarness(t, &ws, func(o *Options) { o.Traffic = traffic })

	var doc struct {
		Traffic map[string]dnsserver.ZoneTraffic `json:"traffic"`
	}
	h.getJSON("GET", "/status", adminUser, adminPass, &doc)
	b := doc.Traffic["builtin"]
	if b.Zones != 2 || b.Queries != 11 || b.NXDomain != 2 || len(b.Top) != 2 ||
		b.Top[0] != (dnsserver.ZoneQueries{Zone: "one.test.", Queries: 8, NXDomain: 2, NXDomainShare: 0.25}) ||
		b.Top[1] != (dnsserver.ZoneQueries{Zone: "two.test.", Queries: 3}) {
		t.Fatalf("status traffic %+v", doc.Traffic)
	}

	var top1, again map[string]dnsserver.ZoneTraffic
	if code := h.getJSON("GET", "/api/v1/traffic?top=1", adminUser, adminPass, &top1); code != 200 {
		t.Fatalf("traffic: %d", code)
	}
	if got := top1["builtin"]; len(got.Top) != 1 || got.Top[0].Zone != "one.test." || len(got.TopNXDomain) != 1 {
		t.Fatalf("top=1: %+v", top1)
	}
	h.getJSON("GET", "/api/v1/traffic?top=1", adminUser, adminPass, &again)
	if !reflect.DeepEqual(top1, again) {
		t.Fatalf("second read differs: %+v", again)
	}
	for _, bad := range []string{"0", "1001", "x"} {
		if code := h.getJSON("GET", "/api/v1/traffic?top="+bad, adminUser, adminPass, nil); code != 400 {
			t.Errorf("top=%s: %d", bad, code)
		}
	}
	if code := h.getJSON("GET", "/api/v1/traffic", "", "", nil); code != 401 {
		t.Errorf("traffic without auth: %d", code)
	}
	none := opsHarness(t, &ws, nil)
	if code := none.getJSON("GET", "/api/v1/traffic", adminUser, adminPass, nil); code != 404 {
		t.Errorf("traffic without counts: %d", code)
	}
	var plain map[string]any
	none.getJSON("GET", "/status", adminUser, adminPass, &plain)
	if _, ok := plain["traffic"]; ok {
		t.Errorf("status shows traffic without counts: %v", plain)
	}
}
