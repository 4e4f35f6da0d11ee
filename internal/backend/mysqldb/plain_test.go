package mysqldb

import "testing"

func TestPlainName(t *testing.T) {
	for name, want := range map[string]bool{
		"example.": true, "*.wild.example.": true, "_sip._tcp.x-y.example.": true, "a.": true,
		"": false, ".": false, "example": false, "a..b.": false, "Upper.example.": false, `a\.b.example.`: false,
		"a b.example.": false, "a@b.example.": false, string(make([]byte, 64)) + ".": false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.": false, // 64
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.":  true,  // 63
	} {
		if got := PlainName(name); got != want {
			t.Errorf("PlainName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  uint64
		want bool
	}{
		{"0", 10, true}, {"10", 10, true}, {"11", 10, false}, {"4294967295", 1<<32 - 1, true},
		{"4294967296", 1<<32 - 1, false}, {"", 10, false}, {"01", 10, false}, {"-1", 10, false}, {"1e3", 5000, false},
	} {
		if got := Decimal(c.s, c.max); got != c.want {
			t.Errorf("Decimal(%q, %d) = %v, want %v", c.s, c.max, got, c.want)
		}
	}
}

func TestDataMemo(t *testing.T) {
	m := NewDataMemo[int](3)
	for i, d := range []string{"a", "b", "c"} {
		m.Put("A", d, i)
	}
	if v, ok := m.Get("A", "b"); !ok || v != 1 || m.Len() != 3 {
		t.Fatalf("get b: %v %v, len %d", v, ok, m.Len())
	}
	if _, ok := m.Get("AAAA", "b"); ok {
		t.Fatal("another type found")
	}
	m.Put("A", "d", 3) // full: starts again
	if _, ok := m.Get("A", "a"); ok || m.Len() != 1 {
		t.Fatalf("after overflow: len %d", m.Len())
	}
	m.Reset()
	if m.Len() != 0 {
		t.Fatal("not reset")
	}
}
