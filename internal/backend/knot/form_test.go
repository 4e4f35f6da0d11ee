package knot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// TestSVCBParametersKnotdDoesNotName: dadns's canonical text names the
// dohpath and ohttp parameters, which knotd 3.2 cannot read; the file is
// written with their generic names, knotd loads it, serves the same
// records (the transferred zone has the applied hash), and the file counts
// as intact.
func TestSVCBParametersKnotdDoesNotName(t *testing.T) {
	text := "$TTL 300\n@ SOA ns1 h 3 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n" +
		"svc SVCB 1 . key3=53 key7=/dns-query{?dns}\n" +
		"web HTTPS 1 . alpn=h2 dohpath=/q{?dns} ohttp\n"
	z, err := zone.Parse("svcb.example", []byte(text), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(z.Text(), "dohpath=") {
		t.Fatalf("the canonical text no longer names dohpath; this test needs another record:\n%s", z.Text())
	}
	form, err := knotForm(z)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(form, "dohpath") || strings.Contains(form, "ohttp") || !strings.Contains(form, "key7=") {
		t.Fatalf("knotd's form:\n%s", form)
	}
	r := newRig(t, knottest.Options{AllowTransfer: true})
	b := r.backend(t, true)
	ctx := testCtx(t)
	if err := b.Apply(ctx, []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, []*zone.Zone{z})
	data, err := os.ReadFile(filepath.Join(r.zones, "svcb.example.zone"))
	if err != nil || !intact("svcb.example", data) {
		t.Fatalf("the file is not intact: %v", err)
	}
	if d := b.Drift(); len(d.Modified) > 0 {
		t.Fatalf("drift: %+v", d)
	}
	// Without transfers, Zone reads the file back into the canonical form.
	got, err := r.backend(t, false).Zone(ctx, z.Name)
	if err != nil || got.Hash() != z.Hash() {
		t.Fatalf("Zone from the file: %v, %v", got, err)
	}
}
