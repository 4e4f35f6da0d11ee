package nsd

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/zone"
)

// TestFewestControlCalls counts the nsd-control commands each kind of
// batch costs, in both modes, and checks that NSD serves each batch.
func TestFewestControlCalls(t *testing.T) {
	type step struct {
		name  string
		zones []*zone.Zone
		want  map[string][]string // per mode
	}
	for _, variant := range []string{ModeAddZone, ModeInclude, ModeAddZone + "/socket", ModeInclude + "/socket",
		ModeAddZone + "/tls", ModeInclude + "/tls"} {
		mode, way, _ := strings.Cut(variant, "/")
		socket := way != "" // natively, on the socket or over TLS: no nsd-control
		t.Run(variant, func(t *testing.T) {
			r := startRig(t, false, way == "tls")
			r.direct = way == "socket"
			b := r.backend(t, mode, false)
			// calls returns the commands the wrapper logged; natively,
			// where nothing runs nsd-control, as many as the backend sent.
			calls := func(want []string) []string {
				got := r.calls(t)
				if !socket {
					return got
				}
				n := b.ctl.calls.Swap(0)
				if len(got) > 0 || n != int64(len(want)) {
					return append(got, fmt.Sprintf("%d commands sent natively", n))
				}
				return want
			}
			ctx := testCtx(t)
			add := map[string]string{ModeAddZone: "addzones", ModeInclude: "reconfig"}[mode]
			steps := []step{
				{"new zones: one addzones or reconfig", zones(t, "a", 40, 1), map[string][]string{
					ModeAddZone: {"addzones"}, ModeInclude: {"reconfig"}}},
				{"one changed zone: reload it", zones(t, "a", 1, 2), map[string][]string{
					ModeAddZone: {"reload a000.example"}, ModeInclude: {"reload a000.example"}}},
				{"a few changed zones: reload each", zones(t, "a", 3, 3), map[string][]string{
					ModeAddZone: {"reload a000.example", "reload a001.example", "reload a002.example"},
					ModeInclude: {"reload a000.example", "reload a001.example", "reload a002.example"}}},
				{"many changed zones: one reload", zones(t, "a", 40, 4), map[string][]string{
					ModeAddZone: {"reload"}, ModeInclude: {"reload"}}},
				{"new and changed", append(zones(t, "b", 20, 1), zones(t, "a", 2, 5)...), map[string][]string{
					ModeAddZone: {"addzones", "reload a000.example", "reload a001.example"},
					ModeInclude: {"reconfig", "reload a000.example", "reload a001.example"}}},
			}
			calls(nil) // New runs none
			for _, s := range steps {
				if err := b.Apply(ctx, s.zones); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if got := calls(s.want[mode]); !slices.Equal(got, s.want[mode]) {
					t.Fatalf("%s: nsd-control calls %q, want %q", s.name, got, s.want[mode])
				}
				mustVerify(t, b, s.zones)
			}
			if n := b.check.runs.Load(); n != 0 {
				t.Fatalf("nsd-checkzone ran %d times for plain zones NSD loaded", n)
			}
			del := []zone.Name{"a000.example", "a001.example", "b000.example"}
			if err := b.Delete(ctx, del); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{ModeAddZone: "delzones", ModeInclude: "reconfig"}[mode]
			if got := calls([]string{want}); !slices.Equal(got, []string{want}) {
				t.Fatalf("delete: nsd-control calls %q, want one %s (adding used %s)", got, want, add)
			}
			for _, n := range del {
				waitGone(t, b, n)
				m := new(dns.Msg)
				m.SetQuestion(n.FQDN(), dns.TypeSOA)
				if resp, err := r.nsd.Exchange(m, "udp"); err != nil || resp.Rcode != dns.RcodeRefused {
					t.Fatalf("deleted %s answered: %v %v", n, resp, err)
				}
			}
			if err := b.Delete(ctx, del); err != nil {
				t.Fatal(err)
			}
			if got := calls(nil); len(got) != 0 {
				t.Fatalf("delete of absent zones ran nsd-control %q", got)
			}
		})
	}
}

// TestLargeAddzones adds more zones in one batch than one addzones run may
// carry (NSD 4.6 hangs at about 700): the backend splits them.
func TestLargeAddzones(t *testing.T) {
	r := newRig(t, false)
	b := r.backend(t, ModeAddZone, false)
	zs := zones(t, "big", 3*listChunk+7, 1)
	if err := b.Apply(testCtx(t), zs); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(t); !slices.Equal(got, []string{"addzones", "addzones", "addzones", "addzones"}) {
		t.Fatalf("nsd-control calls %q, want 4 addzones", got)
	}
	mustVerify(t, b, []*zone.Zone{zs[0], zs[len(zs)/2], zs[len(zs)-1]})
	names := make([]zone.Name, len(zs))
	for i, z := range zs {
		names[i] = z.Name
	}
	if err := b.Delete(testCtx(t), names); err != nil {
		t.Fatal(err)
	}
	if left, _ := b.Zones(testCtx(t)); len(left) != 0 {
		t.Fatalf("%d zones left", len(left))
	}
}
