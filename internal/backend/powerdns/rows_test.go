package powerdns

import (
	"slices"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

// TestMemoSameRows checks that rows built from remembered record data
// (a warm memo) are the rows built from scratch, for every shape of zone.
func TestMemoSameRows(t *testing.T) {
	for name, text := range map[zone.Name]string{"types.example": typesZone, "golden.example": goldenZone} {
		z, err := zone.Parse(name, []byte(text), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Stored(z)
		if err != nil {
			t.Fatal(err)
		}
		memo.mu.Lock()
		memo.m = nil
		memo.mu.Unlock()
		cold, err := rowsOf(s, defaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		memo.mu.Lock()
		n := len(memo.m)
		memo.mu.Unlock()
		if n == 0 {
			t.Fatalf("%s: nothing remembered", name)
		}
		warm, err := rowsOf(s, defaultLimits)
		if err != nil || !slices.Equal(cold, warm) {
			t.Fatalf("%s: rows from the memo differ (%v):\n%v\nwant\n%v", name, err, warm, cold)
		}
	}
}

func TestPlainName(t *testing.T) {
	for name, want := range map[string]bool{
		"example.": true, "*.wild.example.": true, "_sip._tcp.x-y.example.": true, "a.": true,
		"": false, ".": false, "example": false, "a..b.": false, "Upper.example.": false, `a\.b.example.`: false,
		"a b.example.": false, "a@b.example.": false, string(make([]byte, 64)) + ".": false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.": false, // 64
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.":  true,  // 63
	} {
		if got := plainName(name); got != want {
			t.Errorf("plainName(%q) = %v, want %v", name, got, want)
		}
	}
}
