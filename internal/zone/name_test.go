package zone

import (
	"strings"
	"testing"
)

func TestParseNameAccepts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM.", "example.com"},
		{"example.com", "example.com"},
		{"_dmarc.example.com", "_dmarc.example.com"},
		{"11.whs.internal", "11.whs.internal"},
		{"2.0.192.in-addr.arpa", "2.0.192.in-addr.arpa"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"localhost", "localhost"},
		{"-lenient-.example", "-lenient-.example"},
		{strings.Repeat("a", 63) + ".example", strings.Repeat("a", 63) + ".example"},
		{name253(), name253()},
		{name253() + ".", name253()},
	}
	for _, tt := range tests {
		got, err := ParseName(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("ParseName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// name253 is a valid name of exactly 253 octets.
func name253() string {
	l := strings.Repeat("a", 63)
	return l + "." + l + "." + l + "." + strings.Repeat("b", 61)
}

func TestParseNameRefuses(t *testing.T) {
	tests := []struct{ in, why string }{
		{"", "empty name"},
		{".", "root"},
		{"..", "empty label"},
		{"example..com", "empty label"},
		{".example.com", "empty label"},
		{"example.com..", "empty label"},
		{"a/b.example", `'/'`},
		{"../../etc/passwd", `'/'`},
		{`a\b.example`, `'\\'`},
		{`a"b.example`, `'"'`},
		{"a'b.example", `'\''`},
		{"a b.example", "space"},
		{"a\x00b.example", "control character"},
		{"a\rb.example", "control character"},
		{"example.com\n", "control character"},
		{"a\tb.example", "control character"},
		{"a\x7fb.example", "control character"},
		{"bücher.example", "non-ASCII"},
		{"a*b.example", `'*'`},
		{"*.example.com", `'*'`},
		{"a@b.example", `'@'`},
		{"a:b.example", `':'`},
		{strings.Repeat("a", 64) + ".example", "label of 64 octets"},
		{name253() + "b", "254 octets"},
	}
	for _, tt := range tests {
		got, err := ParseName(tt.in)
		if err == nil {
			t.Errorf("ParseName(%q) = %q, want an error about %s", tt.in, got, tt.why)
			continue
		}
		if !strings.Contains(err.Error(), tt.why) || !strings.HasPrefix(err.Error(), "zone: parse name ") {
			t.Errorf("ParseName(%q) error %q does not mention %s", tt.in, err, tt.why)
		}
	}
}

func TestNameParent(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"a.b.example.com", "b.example.com", true},
		{"example.com", "com", true},
		{"com", "", false},
	}
	for _, tt := range tests {
		got, ok := Name(tt.in).Parent()
		if string(got) != tt.want || ok != tt.ok {
			t.Errorf("%q.Parent() = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNameIsSubdomainOf(t *testing.T) {
	tests := []struct {
		n, parent string
		want      bool
	}{
		{"example.com", "example.com", true},
		{"www.example.com", "example.com", true},
		{"a.b.example.com", "example.com", true},
		{"badexample.com", "example.com", false},
		{"example.com", "www.example.com", false},
		{"example.org", "example.com", false},
		{"example.com", "", false},
	}
	for _, tt := range tests {
		if got := Name(tt.n).IsSubdomainOf(Name(tt.parent)); got != tt.want {
			t.Errorf("%q.IsSubdomainOf(%q) = %v, want %v", tt.n, tt.parent, got, tt.want)
		}
	}
}
