package push

import "testing"

func TestOwnersSame(t *testing.T) {
	o := NewOwners(map[string][]string{"DA1.Example.": {"198.51.100.7", "da1-old.example"}})
	cases := []struct {
		a, b string
		want bool
	}{
		{"da1.example", "DA1.EXAMPLE.", true},
		{"da1.example", "198.51.100.7", true},
		{"198.51.100.7", "da1-old.example", true},
		{"da1.example", "da2.example", false},
		{"198.51.100.8", "da1.example", false},
		{"", "", true},
	}
	for _, c := range cases {
		if got := o.Same(c.a, c.b); got != c.want {
			t.Errorf("Same(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
