package zone

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func TestBuildMatchesParse(t *testing.T) {
	text, err := os.ReadFile("testdata/dkim.example.db")
	if err != nil {
		t.Fatal(err)
	}
	z, err := Parse("dkim.example", text, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	recs := append([]Record(nil), z.Records...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	// What a row store may hand back: duplicates, upper case, relative names.
	recs = append(recs,
		Record{Name: "WWW.dkim.example.", TTL: 3600, Type: "A", Data: "192.0.2.20"},
		Record{Name: "www", TTL: 3600, Type: "aaaa", Data: "2001:db8:20::20"},
		Record{Name: "@", TTL: 3600, Type: "MX", Data: "10 MAIL"},
	)
	b, err := Build("dkim.example", recs, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Text() != z.Text() || b.Hash() != z.Hash() || b.Serial != z.Serial || len(b.Warnings) != 0 {
		t.Fatalf("Build differs from Parse:\n%s\nwarnings %v", b.Text(), b.Warnings)
	}
}

func TestBuildRefuses(t *testing.T) {
	base := []Record{
		{Name: "example.com.", TTL: 3600, Type: "SOA", Data: "ns1.hostco.example. h.example.com. 1 2 3 4 5"},
		{Name: "example.com.", TTL: 3600, Type: "NS", Data: "ns1.hostco.example."},
	}
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"newline in data", Record{Name: "www.example.com.", TTL: 60, Type: "A", Data: "192.0.2.1\nevil IN A 192.0.2.2"}, "spans lines"},
		{"newline in name", Record{Name: "www\n.example.com.", TTL: 60, Type: "A", Data: "192.0.2.1"}, "invalid owner name"},
		{"directive as name", Record{Name: "$INCLUDE", TTL: 60, Type: "A", Data: "/etc/passwd"}, "invalid owner name"},
		{"empty name", Record{TTL: 60, Type: "A", Data: "192.0.2.1"}, "invalid owner name"},
		{"space in type", Record{Name: "www.example.com.", TTL: 60, Type: "A 1", Data: "192.0.2.1"}, "invalid type"},
		{"bad data", Record{Name: "www.example.com.", TTL: 60, Type: "A", Data: "nope"}, "bad A"},
		{"CNAME beside data", Record{Name: "example.com.", TTL: 60, Type: "CNAME", Data: "example.net."}, "CNAME at the zone apex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := append(append([]Record(nil), base...), tt.rec, Record{Name: "ok.example.com.", TTL: 60, Type: "A", Data: "192.0.2.9"})
			_, err := Build("example.com", recs, Limits{})
			if !hasProblem(Problems(err), want{3, tt.want}) {
				t.Fatalf("got %v, want a problem at line 3 about %q", err, tt.want)
			}
		})
	}
	if _, err := Build("example.com", base[1:], Limits{}); !hasProblem(Problems(err), want{0, "no SOA"}) {
		t.Errorf("Build without SOA: %v", err)
	}
	if _, err := Build("example.com", nil, Limits{}); err == nil || !strings.Contains(err.Error(), "no SOA") {
		t.Errorf("Build of nothing: %v", err)
	}
}
