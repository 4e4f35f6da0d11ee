package zone

import (
	"os"
	"testing"
)

// BenchmarkParse parses a typical DirectAdmin zone: 24 records with a
// 2048-bit DKIM key split in two strings.
func BenchmarkParse(b *testing.B) {
	text, err := os.ReadFile("testdata/dkim.example.db")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("dkim.example", text, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
