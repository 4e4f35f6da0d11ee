package mysqldb

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestReadAhead follows the dispatcher's pattern: a batch written, then
// each zone taken once. One read covers the batch; each verdict answers
// once, and not after MaxAge, a write, or a failed read.
func TestReadAhead(t *testing.T) {
	now := time.Unix(1000, 0)
	r := ReadAhead[string]{Max: 3, MaxAge: time.Second, Now: func() time.Time { return now }}
	var reads [][]string
	check := func(keys []string) (map[string]bool, error) {
		reads = append(reads, slices.Clone(keys))
		return map[string]bool{"a": true, "b": false, "c": true, "d": true}, nil
	}
	if _, known := r.Take("a", check); known || len(reads) != 0 {
		t.Fatalf("Take before any write: known %v, %d reads", known, len(reads))
	}
	r.Written([]string{"a", "b", "c", "d"})
	if same, known := r.Take("a", check); !same || !known || len(reads) != 1 || len(reads[0]) != 3 || reads[0][0] != "a" {
		t.Fatalf("first Take = %v %v, reads %q: want one read of a and two others", same, known, reads)
	}
	for _, k := range reads[0][1:] {
		same, known := r.Take(k, check)
		if !known || same != (k != "b") || len(reads) != 1 {
			t.Fatalf("Take(%s) = %v %v after %d reads: want the verdict read ahead", k, same, known, len(reads))
		}
		if _, known := r.Take(k, check); known {
			t.Fatalf("a verdict of %s answered twice", k)
		}
	}
	var last string
	for _, k := range []string{"b", "c", "d"} {
		if !slices.Contains(reads[0], k) {
			last = k
		}
	}
	if _, known := r.Take(last, check); !known || len(reads) != 2 || !slices.Equal(reads[1], []string{last}) {
		t.Fatalf("Take of the zone left over: known %v, reads %q", known, reads)
	}

	// Verdicts expire, and go with a write or a reset.
	r.Written([]string{"a", "b", "c"})
	r.Take("a", check)
	now = now.Add(2 * time.Second)
	if _, known := r.Take("b", check); known {
		t.Fatal("a verdict older than MaxAge answered")
	}
	r.Written([]string{"a"})
	if r.Verdicts() != 1 {
		t.Fatalf("%d verdicts kept, want c's", r.Verdicts())
	}
	r.Reset()
	if _, known := r.Take("c", check); known || r.Verdicts() != 0 {
		t.Fatal("a verdict survived Reset")
	}

	// A failed read leaves every zone it covered to be read alone.
	r.Written([]string{"a", "b"})
	fail := func([]string) (map[string]bool, error) { return nil, errors.New("down") }
	if _, known := r.Take("a", fail); known {
		t.Fatal("a failed read gave a verdict")
	}
	if _, known := r.Take("b", check); known {
		t.Fatal("b was read again ahead after a failed read: it must be read alone")
	}

	// A write while the read runs keeps only the caller's verdict.
	r.Written([]string{"a", "b"})
	r.Take("a", func(keys []string) (map[string]bool, error) {
		r.Written([]string{"x"})
		return map[string]bool{"a": true, "b": true}, nil
	})
	if r.Verdicts() != 0 {
		t.Fatal("a read overtaken by a write kept verdicts")
	}
}

// TestDigestRow checks the hash of a row is that of its length-prefixed
// fields, that field boundaries count, and that non-ASCII text is flagged.
func TestDigestRow(t *testing.T) {
	var r DigestRow
	var d1, d2 Digest
	r.Str("ab")
	r.Str("c")
	r.Int(-1)
	if !r.End(&d1) || d1.Rows != 1 || d1.Sum == 0 {
		t.Fatalf("digest %+v", d1)
	}
	r.Str("a")
	r.Str("bc")
	r.Int(-1)
	r.End(&d2)
	if d1 == d2 {
		t.Fatal("rows differing only in where a field ends have the same digest")
	}
	var e Digest
	r.Str("é")
	if r.End(&e) {
		t.Fatal("a non-ASCII field was not flagged")
	}
	r.Str("ab")
	r.Str("c")
	r.Int(-1)
	var d3 Digest
	if !r.End(&d3) || d3 != d1 {
		t.Fatal("the flag or buffer of a row leaked into the next")
	}
}
