package bind

import (
	"fmt"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/zone"
)

func zones(t testing.TB, prefix string, n, serial int) []*zone.Zone {
	out := make([]*zone.Zone, n)
	for i := range out {
		out[i] = backendtest.Zone(t, fmt.Sprintf("%s%03d.example", prefix, i), serial)
	}
	return out
}

func mustVerify(t *testing.T, b *Backend, zs []*zone.Zone) {
	t.Helper()
	for _, z := range zs {
		if err := b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
			t.Fatal(err)
		}
	}
}

// reloads is the "reload <zone>" of the first n zones zones(prefix, n)
// makes.
func reloads(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("reload %s%03d.example", prefix, i)
	}
	return out
}

// TestFewestRndcCalls counts the rndc commands each kind of batch costs.
func TestFewestRndcCalls(t *testing.T) {
	r := newRig(t, false)
	b := r.backend(t, false)
	ctx := testCtx(t)
	steps := []struct {
		name  string
		zones []*zone.Zone
		want  []string
	}{
		{"new zones: one reconfig", zones(t, "a", 40, 1), []string{"reconfig"}},
		{"one changed zone: reload it", zones(t, "a", 1, 2), []string{"reload a000.example"}},
		{"a few changed zones: reload each", zones(t, "a", 3, 3), []string{"reload a000.example", "reload a001.example", "reload a002.example"}},
		{"many changed zones: one reload", zones(t, "a", 40, 4), []string{"reload"}},
		{"new and changed: reconfig, reload the changed",
			append(zones(t, "b", 20, 1), zones(t, "a", 2, 5)...), []string{"reconfig", "reload a000.example", "reload a001.example"}},
		{"re-apply of the same zone: reload it", zones(t, "b", 1, 1), []string{"reload b000.example"}},
		// 360 zones held from here: a full reload rereads all of them, so
		// it is worth it only for an eighth of them (45) or more.
		{"new zones: one reconfig", zones(t, "c", 300, 1), []string{"reconfig"}},
		{"changed zones, more than 16 but few of those held: reload each", zones(t, "c", 20, 2), reloads("c", 20)},
		{"changed zones, an eighth of those held: one reload", zones(t, "c", 45, 3), []string{"reload"}},
	}
	r.calls(t) // New issues none; drop anything earlier
	for _, s := range steps {
		if err := b.Apply(ctx, s.zones); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := r.calls(t); !slices.Equal(got, s.want) {
			t.Fatalf("%s: rndc calls %q, want %q", s.name, got, s.want)
		}
		mustVerify(t, b, s.zones)
	}
	del := []zone.Name{"a000.example", "a001.example", "b000.example"}
	if err := b.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(t); !slices.Equal(got, []string{"reconfig"}) {
		t.Fatalf("delete: rndc calls %q, want one reconfig", got)
	}
	for _, n := range del {
		m := new(dns.Msg)
		m.SetQuestion(n.FQDN(), dns.TypeSOA)
		if resp, err := r.named.Exchange(m, "udp"); err != nil || resp.Rcode != dns.RcodeRefused {
			t.Fatalf("deleted %s still answered: %v %v", n, resp, err)
		}
	}
	if err := b.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(t); len(got) != 0 {
		t.Fatalf("delete of absent zones ran rndc %q", got)
	}
	if got := r.spawned(t); len(got) != 0 {
		t.Fatalf("the rndc binary ran %q; its configuration is understood, so commands go over the control channel", got)
	}
}
