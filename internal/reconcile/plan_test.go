package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/push"
)

// srv builds a complete answer: local domains (name=user) and foreign
// zones (listed only), with optional serials (name:serial).
func srv(host string, local []string, foreign []string, serials map[string]uint32) ServerResult {
	s := ServerResult{Host: host, Complete: true, Zones: map[string]bool{}, Owners: map[string]string{}, Serials: serials}
	for _, l := range local {
		name, user, _ := strings.Cut(l, "=")
		s.Zones[name], s.Owners[name] = true, user
	}
	for _, f := range foreign {
		s.Zones[f] = true
	}
	return s
}

func unknown(host string) ServerResult { return ServerResult{Host: host, Err: "connection refused"} }

func held(spec ...string) []NodeZone {
	var out []NodeZone
	for i, s := range spec {
		name, owner, _ := strings.Cut(s, "@")
		out = append(out, NodeZone{Name: name, Owner: owner, Serial: 10, Version: int64(i + 1)})
	}
	return out
}

// many returns n zones owned by owner.
func many(n int, owner string) []NodeZone {
	var out []NodeZone
	for i := range n {
		out = append(out, NodeZone{Name: "z" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".example", Owner: owner, Serial: 1, Version: 1})
	}
	return out
}

func TestMakePlan(t *testing.T) {
	aliases := push.NewOwners(map[string][]string{"da1.example": {"198.51.100.1"}})
	cases := []struct {
		name      string
		zones     []NodeZone
		tombs     map[string]int64
		servers   []ServerResult
		want      []string // Action.String() prefixes "kind zone"
		withheld  int
		refusal   bool
		untouched int
		undecided []string
	}{
		{name: "in sync", zones: held("a.example@da1.example"),
			servers: []ServerResult{srv("da1.example", []string{"a.example=alice"}, nil, map[string]uint32{"a.example": 10})}},
		{name: "missed push: zone missing", zones: held("a.example@da1.example"),
			servers: []ServerResult{srv("da1.example", []string{"a.example=alice", "b.example=bob"}, nil, nil)},
			want:    []string{"fetch b.example"}},
		{name: "missed push: newer serial", zones: held("a.example@da1.example"),
			servers: []ServerResult{srv("da1.example", []string{"a.example=alice"}, nil, map[string]uint32{"a.example": 11})},
			want:    []string{"fetch a.example"}},
		{name: "older serial on DA is not fetched", zones: held("a.example@da1.example"),
			servers: []ServerResult{srv("da1.example", []string{"a.example=alice"}, nil, map[string]uint32{"a.example": 9})}},
		{name: "serial wrap-around counts as newer", zones: []NodeZone{{Name: "a.example", Owner: "da1.example", Serial: 4294967290, Version: 1}},
			servers: []ServerResult{srv("da1.example", []string{"a.example=alice"}, nil, map[string]uint32{"a.example": 3})},
			want:    []string{"fetch a.example"}},
		{name: "deleted here, DA still has it", tombs: map[string]int64{"a.example": 4},
			servers: []ServerResult{srv("da1.example", []string{"a.example=alice"}, nil, nil)},
			want:    []string{"fetch a.example"}},
		{name: "orphan deleted", zones: append(many(10, "da1.example"), held("gone.example@da1.example")...),
			servers: []ServerResult{srv("da1.example", names(many(10, "")), nil, nil)},
			want:    []string{"delete gone.example"}},
		{name: "orphan under an alias of its owner", zones: append(many(10, "198.51.100.1"), held("gone.example@198.51.100.1")...),
			servers: []ServerResult{srv("da1.example", names(many(10, "")), nil, nil)},
			want:    []string{"delete gone.example"}},
		{name: "alias owner is not a migration", zones: held("a.example@198.51.100.1"),
			servers: []ServerResult{srv("DA1.example.", []string{"a.example=alice"}, nil, nil)}},
		{name: "foreign listing keeps the zone", zones: held("a.example@da1.example"),
			servers: []ServerResult{srv("da1.example", nil, nil, nil), srv("da2.example", nil, []string{"a.example"}, nil)},
			want:    []string{"migrate a.example"}},
		{name: "unconfigured owner untouched", zones: held("a.example@da9.example", "b.example@da1.example"),
			servers:   []ServerResult{srv("da1.example", []string{"b.example=bob"}, nil, nil), srv("da2.example", []string{"a.example=x"}, nil, nil)},
			untouched: 1},
		{name: "unreachable owner: nothing deleted", zones: held("a.example@da1.example", "b.example@da1.example"),
			servers:   []ServerResult{unknown("da1.example"), srv("da2.example", nil, nil, nil)},
			undecided: []string{"a.example", "b.example"}},
		{name: "another server unknown: delete withheld", zones: append(many(10, "da1.example"), held("gone.example@da1.example")...),
			servers:  []ServerResult{srv("da1.example", names(many(10, "")), nil, nil), unknown("da2.example")},
			withheld: 1},
		{name: "deletion limit", zones: many(20, "da1.example"),
			servers:  []ServerResult{srv("da1.example", names(many(17, "")), nil, nil)},
			withheld: 3, refusal: true},
		{name: "migration by domain owners", zones: held("a.example@da1.example"),
			servers: []ServerResult{srv("da1.example", nil, []string{"a.example"}, nil), srv("da2.example", []string{"a.example=alice"}, nil, nil)},
			want:    []string{"migrate a.example"}},
		{name: "cluster peers list each other's zones: no flapping", zones: held("a.example@da1.example", "b.example@da2.example"),
			servers: []ServerResult{
				srv("da1.example", []string{"a.example=alice"}, []string{"b.example"}, nil),
				srv("da2.example", []string{"b.example=bob"}, []string{"a.example"}, nil)}},
		{name: "backfill", zones: held("a.example@"),
			servers: []ServerResult{srv("da1.example", nil, nil, nil), srv("da2.example", []string{"a.example=alice"}, nil, nil)},
			want:    []string{"backfill a.example"}},
		{name: "no owner, nobody has it: left alone", zones: held("a.example@"),
			servers:   []ServerResult{srv("da1.example", nil, nil, nil)},
			undecided: []string{"a.example"}},
		{name: "two claimants, neither the owner", zones: held("a.example@da1.example"),
			servers: []ServerResult{srv("da1.example", nil, nil, nil),
				srv("da2.example", []string{"a.example=x"}, nil, nil), srv("da3.example", []string{"a.example=y"}, nil, nil)},
			undecided: []string{"a.example"}},
		{name: "invalid listed name skipped",
			servers: []ServerResult{srv("da1.example", []string{"bad..example=x", "ok.example=y"}, nil, nil)},
			want:    []string{"fetch ok.example"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := MakePlan(Input{Zones: tc.zones, Tombstones: tc.tombs, Servers: tc.servers, Owners: aliases,
				MaxDeleteFraction: 0.1, ValidName: func(s string) bool { return !strings.Contains(s, "..") }})
			var got []string
			for _, a := range p.Actions {
				got = append(got, string(a.Kind)+" "+a.Zone)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("actions = %v, want %v", got, tc.want)
			}
			if len(p.Withheld) != tc.withheld || (p.DeleteRefusal != "") != tc.refusal {
				t.Errorf("withheld %d (%q), want %d (refusal %v)", len(p.Withheld), p.DeleteRefusal, tc.withheld, tc.refusal)
			}
			if p.Untouched != tc.untouched || !slices.Equal(p.Undecided, tc.undecided) {
				t.Errorf("untouched %d undecided %v; want %d %v", p.Untouched, p.Undecided, tc.untouched, tc.undecided)
			}
		})
	}
}

// TestPythonBugUnreachableServerMakesNoOrphans: in the Python
// directdnsonly an unreachable DA server contributes no domains, so every
// zone it owns looks like an orphan and is queued for deletion. dadns
// plans no delete at all while any server's answer is unknown.
func TestPythonBugUnreachableServerMakesNoOrphans(t *testing.T) {
	zones := append(many(30, "da1.example"), many(5, "da2.example")...)
	p := MakePlan(Input{Zones: zones, Owners: push.Owners{}, MaxDeleteFraction: 1,
		Servers: []ServerResult{unknown("da1.example"), srv("da2.example", nil, nil, nil)}})
	if p.Count(Delete) != 0 {
		t.Fatalf("an unreachable server's zones were planned for deletion: %v", p.Actions)
	}
	if len(p.Unknown) != 1 || p.Unknown[0] != "da1.example" {
		t.Fatalf("unknown servers = %v", p.Unknown)
	}
}

func TestDeleteLimit(t *testing.T) {
	for _, c := range []struct {
		live int
		frac float64
		want int
	}{{0, 0.1, 1}, {5, 0.1, 1}, {10, 0.1, 1}, {19, 0.1, 1}, {20, 0.1, 2}, {1000, 0.1, 100}, {30, 0.1, 3}, {7, 1, 7}} {
		if got := DeleteLimit(c.live, c.frac); got != c.want {
			t.Errorf("DeleteLimit(%d, %g) = %d, want %d", c.live, c.frac, got, c.want)
		}
	}
}

func TestSerialNewer(t *testing.T) {
	for _, c := range []struct {
		a, b uint32
		want bool
	}{{2, 1, true}, {1, 2, false}, {1, 1, false}, {0, 4294967295, true}, {4294967295, 0, false}, {1 << 31, 0, false}} {
		if got := SerialNewer(c.a, c.b); got != c.want {
			t.Errorf("SerialNewer(%d, %d) = %v", c.a, c.b, got)
		}
	}
}

func names(zs []NodeZone) []string {
	var out []string
	for _, z := range zs {
		out = append(out, z.Name+"=u")
	}
	return out
}
