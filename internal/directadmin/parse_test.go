package directadmin

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParsePage(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		total int
		want  []string
		bad   bool
	}{
		{"numbers", `{"0":{"domain":"A.example."},"1":{"domain":"b.example"},"info":{"total_pages":2}}`, 2, []string{"a.example", "b.example"}, false},
		{"strings", `{"0":{"domain":"a.example"},"info":{"total_pages":"3","current_page":"1"}}`, 3, []string{"a.example"}, false},
		{"float", `{"info":{"total_pages":1.0}}`, 1, nil, false},
		{"other keys ignored", `{"0":{"domain":"a.example"},"sort":"x","info":{"total_pages":1}}`, 1, []string{"a.example"}, false},
		{"no info", `{"0":{"domain":"a.example"}}`, 0, nil, true},
		{"zero pages", `{"info":{"total_pages":0}}`, 0, nil, true},
		{"fraction", `{"info":{"total_pages":1.5}}`, 0, nil, true},
		{"entry without domain", `{"0":{"name":"a.example"},"info":{"total_pages":1}}`, 0, nil, true},
		{"domain not a string", `{"0":{"domain":5},"info":{"total_pages":1}}`, 0, nil, true},
		{"empty domain", `{"0":{"domain":" "},"info":{"total_pages":1}}`, 0, nil, true},
		{"array", `[{"domain":"a.example"}]`, 0, nil, true},
		{"html", `<html></html>`, 0, nil, true},
		{"legacy list", `list[]=a.example&list[]=b.example`, 0, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePage([]byte(tc.body))
			if tc.bad {
				if !errors.Is(err, ErrUnexpected) {
					t.Fatalf("parsePage = %+v, %v; want ErrUnexpected", p, err)
				}
				return
			}
			slices.Sort(p.domains)
			if err != nil || p.totalPages != tc.total || !slices.Equal(p.domains, tc.want) {
				t.Fatalf("parsePage = %+v, %v", p, err)
			}
		})
	}
}

func TestParseOwners(t *testing.T) {
	got, err := parseOwners([]byte("A.example=alice&b.example=bob\nc.example=carol\n"))
	if err != nil || len(got) != 3 || got["a.example"] != "alice" || got["c.example"] != "carol" {
		t.Fatalf("parseOwners = %v, %v", got, err)
	}
	if got, err := parseOwners([]byte("  \n")); err != nil || len(got) != 0 {
		t.Fatalf("empty owners = %v, %v", got, err)
	}
	// More domains than url.ParseQuery accepts parameters (10,000).
	var big []string
	for i := range 150_000 {
		big = append(big, fmt.Sprintf("d%d.example=u%d", i, i%7))
	}
	if got, err := parseOwners([]byte(strings.Join(big, "&"))); err != nil || len(got) != 150_000 || got["d149999.example"] != "u3" {
		t.Fatalf("150,000 owners: %d, %v", len(got), err)
	}
	for _, bad := range []string{"a.example=alice&a.example=eve", "a.example=", "a.example=%zz", "=alice", "a.example"} {
		if _, err := parseOwners([]byte(bad)); !errors.Is(err, ErrUnexpected) {
			t.Errorf("parseOwners(%q) = %v; want ErrUnexpected", bad, err)
		}
	}
}
