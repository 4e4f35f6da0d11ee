package nsd

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

// unloadable are zones dadns accepts but NSD refuses, with a word of
// NSD's reason.
var unloadable = []struct{ text, reason string }{
	{"$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nd DNAME x.example.\nx.d A 192.0.2.9\n", "DNAME"},
	{"$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nx HTTPS 1 . mandatory=port alpn=h2\n", "mandatory"},
}

func parse(t *testing.T, name, text string) *zone.Zone {
	z, err := zone.Parse(zone.Name(name), []byte(text), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestBadZoneFailsAlone applies a batch holding zones NSD would not load.
// A zone NSD serves already is checked before NSD sees it: it fails in
// Apply, permanently with NSD's reason, and NSD keeps serving its good
// version. New zones are not checked beforehand: NSD refuses them alone
// (SERVFAIL for them, the others served) and Verify fails them
// permanently with NSD's reason.
func TestBadZoneFailsAlone(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, true)
			b := r.backend(t, mode, true)
			ctx := testCtx(t)
			good := zones(t, "ok", 3, 1)
			kept := backendtest.Zone(t, "kept.example", 1)
			if err := b.Apply(ctx, []*zone.Zone{kept}); err != nil {
				t.Fatal(err)
			}
			bad := []*zone.Zone{parse(t, "bad0.example", unloadable[0].text), parse(t, "bad1.example", unloadable[1].text)}
			batch := append(append(good, bad...), parse(t, "kept.example", unloadable[0].text))
			named, rest := backend.PerZone(b.Apply(ctx, batch))
			if rest != nil || len(named) != 1 || named["kept.example"] == nil {
				t.Fatalf("zone errors %v, rest %v; want kept.example's alone", named, rest)
			}
			for _, z := range bad {
				named[z.Name] = b.Verify(ctx, z.Name, z.Hash())
			}
			for n, why := range map[zone.Name]string{"bad0.example": "DNAME", "bad1.example": "mandatory", "kept.example": "DNAME"} {
				if e := named[n]; !errors.Is(e, backend.ErrPermanent) || !strings.Contains(e.Error(), why) {
					t.Errorf("%s: %v; want a permanent error with NSD's reason", n, e)
				} else if strings.Contains(e.Error(), r.zones) {
					t.Errorf("%s: the reason names a path: %v", n, e)
				}
			}
			mustVerify(t, b, append(good, kept))
			m := new(dns.Msg)
			m.SetQuestion("bad0.example.", dns.TypeSOA)
			if resp, err := r.nsd.Exchange(m, "tcp"); err != nil || resp.Rcode != dns.RcodeServerFailure {
				t.Errorf("NSD's answer for the zone it refused: %v %v; want SERVFAIL", resp, err)
			}
			if _, _, h, _ := header(r.zones + "/kept.example.db"); h != kept.Hash() {
				t.Error("the refused version of a served zone was installed")
			}
			if got := b.check.runs.Load(); got != 3 {
				t.Errorf("nsd-checkzone ran %d times; want 3 (kept.example before, bad0 and bad1 after NSD refused them)", got)
			}
		})
	}
}

func TestReason(t *testing.T) {
	out := "[2026-12-06 01:59:35.312] nsd-checkzone[18413]: warning: /tmp/x/.a.tmp-1:4: TTL differs\n" +
		"[2026-12-06 01:59:35.312] nsd-checkzone[18413]: error: /tmp/x/.a.tmp-1:5: mandatory SvcParamKey: port is missing the record\n" +
		"zone a file /tmp/x/.a.tmp-1 has 1 errors\n"
	want := "line 5: mandatory SvcParamKey: port is missing the record; zone a file the zone file has 1 errors"
	if got := reason(out, "/tmp/x/.a.tmp-1"); got != want {
		t.Fatalf("reason:\n%s\nwant\n%s", got, want)
	}
}

func TestListErrors(t *testing.T) {
	bad := map[zone.Name]error{}
	out := "zone b1.example already exists\nadded: b1.example\nerror pattern nopattern does not exist\n" +
		"error for input line 'b8.example'\nadded 1 zones\n"
	if err := listErrors("addzones", out, bad); err != nil || len(bad) != 1 || !strings.Contains(bad["b8.example"].Error(), "nopattern") {
		t.Fatalf("addzones: %v %v", bad, err)
	}
	bad = map[zone.Name]error{}
	out = "removed: b9.example\nwarning zone none.example not present\nerror for input line 'none.example'\ndeleted 1 zones\n"
	if err := listErrors("delzones", out, bad); err != nil || len(bad) != 0 {
		t.Fatalf("delzones of an absent zone: %v %v", bad, err)
	}
	if err := listErrors("addzones", "error: something\n", bad); err == nil {
		t.Fatal("an error line tied to no zone passed")
	}
}

func TestPlain(t *testing.T) {
	base := "$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
	for body, want := range map[string]bool{
		"":                                   true,
		"www CNAME @\n_s._tcp SRV 0 0 0 .\n": true,
		"@ CAA 0 issue \"x.org\"\n":          true,
		"@ CAA 0 is-sue \"x.org\"\n":         false, // NSD: invalid tag
		"d DNAME x.example.\n":               false,
		"x HTTPS 1 . alpn=h2\n":              false,
		"x TLSA 3 1 1 aabbcc\n":              false,
	} {
		if got := plain(parse(t, "p.example", base+body)); got != want {
			t.Errorf("%q: plain %v, want %v", body, got, want)
		}
	}
}
