package bind

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// builtinOnlyZone holds what the builtin serves and named refuses with its
// defaults: owner names check-names fails in a primary zone, and an RRset
// larger than BIND 9.18.28's max-records-per-type of 100.
func builtinOnlyZone(t *testing.T, name string) *zone.Zone {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$TTL 300\n@ IN SOA ns1 hostmaster 7 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n")
	b.WriteString("under_score IN A 192.0.2.2\n-leading-hyphen IN A 192.0.2.3\n")
	for i := range 150 {
		fmt.Fprintf(&b, "big IN A 10.0.%d.%d\n", i/200, i%200+1)
	}
	z, err := zone.Parse(zone.Name(name), []byte(b.String()), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestNamedLoadsWhatBuiltinServes applies such a zone to a real named: it
// is loaded and answers every name, the large RRset whole.
func TestNamedLoadsWhatBuiltinServes(t *testing.T) {
	r := newRig(t, true)
	b := r.backend(t, true)
	ctx := testCtx(t)
	z := builtinOnlyZone(t, "names.example")
	if err := b.Apply(ctx, []*zone.Zone{z}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if err := b.Verify(ctx, z.Name, z.Hash()); err != nil {
		t.Fatalf("verify: %v", err)
	}
	for owner, want := range map[string]int{"under_score": 1, "-leading-hyphen": 1, "big": 150} {
		m := new(dns.Msg)
		m.SetQuestion(owner+".names.example.", dns.TypeA)
		resp, err := r.named.Exchange(m, "tcp")
		if err != nil || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != want {
			t.Errorf("%s A: %v answers (want %d), err %v", owner, answers(resp), want, err)
		}
	}
}

func answers(m *dns.Msg) int {
	if m == nil {
		return -1
	}
	return len(m.Answer)
}

// TestCheckNamesFailRefusesZone: with check_names fail (named's own
// default), the same zone is refused before named sees it, with named's
// reason.
func TestCheckNamesFailRefusesZone(t *testing.T) {
	r := newRig(t, false)
	opt := r.options(false)
	opt.CheckNames = "fail"
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	z := builtinOnlyZone(t, "strict.example")
	err = b.Apply(testCtx(t), []*zone.Zone{z})
	named, _ := backend.PerZone(err)
	if e := named[z.Name]; e == nil || !errors.Is(e, backend.ErrPermanent) || !strings.Contains(e.Error(), "check-names") {
		t.Fatalf("apply with check_names fail: %v", err)
	}
	inc, err := os.ReadFile(r.include)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(inc), "strict.example") {
		t.Fatalf("refused zone in the include:\n%s", inc)
	}
}

// TestZoneLimitsOnlyWhenNamedKnowsThem probes named-checkconf: the real
// one (9.18.28+ here) takes the limits; one that does not know them gets
// none, and one that cannot run gets none either.
func TestZoneLimitsOnlyWhenNamedKnowsThem(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	opt := &Options{CheckNames: "ignore"}
	old := filepath.Join(dir, "old-checkconf")
	script := "#!/bin/sh\nif grep -q max- \"$1\"; then echo \"$1:1: unknown option 'max-records-per-type'\"; exit 1; fi\nexit 0\n"
	if err := os.WriteFile(old, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := newZoneOptions(opt, old, dir, log).text; got != " check-names ignore;" {
		t.Errorf("older named: %q", got)
	}
	if got := newZoneOptions(opt, "", dir, log).text; got != " check-names ignore;" {
		t.Errorf("no named-checkconf: %q", got)
	}
	r := newRig(t, false)
	b := r.backend(t, false)
	if want := " check-names ignore; max-records-per-type 0; max-types-per-name 0;"; b.zopts.text != want {
		t.Errorf("named here: %q, want %q", b.zopts.text, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("probe files left behind: %v", entries)
	}
}
