package knot

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// actions shortens logged knotc calls to their action and first argument.
func actions(calls []string) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		f := strings.Fields(c)
		if len(f) > 2 {
			f = f[:2]
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

// notPlain is a zone knotd loads that is not plain (see plain).
func notPlain(t *testing.T, name string) *zone.Zone {
	z, err := zone.Parse(zone.Name(name), []byte("$TTL 300\n@ SOA ns1 h 5 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nold DNAME new.example.\n"), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestFewestKnotcCalls counts the knotc actions each kind of batch costs:
// a few per batch, none per zone.
func TestFewestKnotcCalls(t *testing.T) {
	r := newRig(t, knottest.Options{})
	b := r.backend(t, false)
	b.confFresh = time.Hour // the zone list read by the first batch is trusted throughout
	ctx := testCtx(t)
	steps := []struct {
		name  string
		zones []*zone.Zone
		want  []string
	}{
		{"new zones: one transaction", zones(t, "a", 40, 1),
			[]string{"conf-read zone.domain", "conf-read template[default].storage", "conf-begin", "conf-set zone.domain", "conf-commit"}},
		{"one changed zone: reload it (knotd's reload checks it)", zones(t, "a", 1, 2), []string{"-b zone-reload"}},
		{"many changed zones: one reload", zones(t, "a", 40, 3), []string{"-b zone-reload"}},
		{"new and changed: a transaction and a reload", append(zones(t, "b", 20, 1), zones(t, "a", 2, 5)...),
			[]string{"conf-begin", "conf-set zone.domain", "conf-commit", "-b zone-reload"}},
		{"new zones that are not plain: checked first", []*zone.Zone{notPlain(t, "c.example")},
			[]string{"zone-check", "conf-begin", "conf-set zone.domain", "conf-commit"}},
	}
	r.calls(t)
	for _, s := range steps {
		if err := b.Apply(ctx, s.zones); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := actions(r.calls(t))
		if len(got) >= 2 && slices.Contains(got[:2], "zone-check") && slices.Contains(got[:2], "conf-read zone.domain") {
			slices.Sort(got[:2]) // zone-check and conf-read run at once
		}
		if !slices.Equal(got, s.want) {
			t.Fatalf("%s: knotc calls %q, want %q", s.name, got, s.want)
		}
		mustVerify(t, b, s.zones)
	}
	del := []zone.Name{"a000.example", "a001.example", "b000.example"}
	if err := b.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	if got := actions(r.calls(t)); !slices.Equal(got, []string{"conf-read zone.domain", "conf-begin", "conf-unset zone.domain", "conf-commit"}) {
		t.Fatalf("delete: knotc calls %q", got)
	}
	for _, n := range del {
		m := new(dns.Msg)
		m.SetQuestion(n.FQDN(), dns.TypeSOA)
		if resp, err := r.knot.Exchange(m, "udp"); err != nil || resp.Rcode != dns.RcodeRefused {
			t.Fatalf("deleted %s still answered: %v %v", n, resp, err)
		}
		if _, err := os.Stat(filepath.Join(r.zones, string(n)+".zone")); !os.IsNotExist(err) {
			t.Fatalf("deleted %s: file still there (%v)", n, err)
		}
	}
	if err := b.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(t); len(got) != 0 {
		t.Fatalf("delete of absent zones ran knotc %q", got)
	}
	if openTransaction(t, r.knot) {
		t.Fatal("a configuration transaction was left open")
	}
}

// TestFailedTransactionAborted makes configuration transactions fail, for
// real (a template knotd does not have) and by a failing conf-commit: the
// zones fail with knotc's message, knotd keeps no open transaction and
// none of the zones, and the zones apply once the cause is gone.
func TestFailedTransactionAborted(t *testing.T) {
	r := newRig(t, knottest.Options{ExtraTemplate: "dadns"})
	ctx := testCtx(t)
	opt := r.options(false)
	opt.Template = "nosuch"
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	zs := zones(t, "tx", 3, 1)
	err = b.Apply(ctx, zs)
	if err == nil || !strings.Contains(err.Error(), "(not exists) zone[tx000.example].template = nosuch") {
		t.Fatalf("Apply with a missing template: %v", err)
	}
	if openTransaction(t, r.knot) {
		t.Fatal("the failed transaction was left open")
	}
	if conf, _ := r.knot.KnotcOutput("conf-read", "zone.domain"); strings.Contains(conf, "tx000") {
		t.Fatalf("aborted zones are configured: %s", conf)
	}

	opt.Template = "dadns"
	r.failNext(t, "conf-commit") // before New, which also tries to add them
	b, err = New(opt)
	if err != nil {
		t.Fatal(err)
	}
	if openTransaction(t, r.knot) {
		t.Fatal("New left the transaction whose commit failed open")
	}
	if err := b.Apply(ctx, zs); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Apply with a failing conf-commit: %v", err)
	}
	if openTransaction(t, r.knot) {
		t.Fatal("the transaction whose commit failed was left open")
	}
	r.failNext(t, "")
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zs)
}

// TestLeftoverTransaction: a transaction an earlier dadns left open (its
// marker says so) is aborted before the next; one an operator opened by
// hand is not touched, and the batch fails with knotd's reason.
func TestLeftoverTransaction(t *testing.T) {
	r := newRig(t, knottest.Options{})
	ctx := testCtx(t)
	b := r.backend(t, false)
	if err := r.knot.Knotc("conf-begin"); err != nil {
		t.Fatal(err)
	}
	zs := zones(t, "left", 2, 1)
	if err := b.Apply(ctx, zs); err == nil || !strings.Contains(err.Error(), "too many transactions") {
		t.Fatalf("Apply beside an operator's transaction: %v", err)
	}
	if !openTransaction(t, r.knot) {
		t.Fatal("the operator's transaction was aborted")
	}
	if err := os.WriteFile(filepath.Join(r.zones, markerName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, zs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, zs)
	if _, err := os.Stat(filepath.Join(r.zones, markerName)); !os.IsNotExist(err) {
		t.Fatal("transaction marker left behind")
	}
}
