package knotctl

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func encode(t testing.TB, units ...Unit) []byte {
	t.Helper()
	var b []byte
	for i := range units {
		var err error
		if b, err = units[i].Append(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestWireForm pins the bytes of a unit: type, then per item code 16+index,
// big-endian length, value; absent items are not sent, empty ones are.
func TestWireForm(t *testing.T) {
	u := NewData(Cmd, "zone-reload", Flags, "", Zone, "a.example")
	got := encode(t, u, Unit{Type: Block})
	want := []byte{1, 0x10, 0, 11}
	want = append(want, "zone-reload"...)
	want = append(want, 0x11, 0, 0, 0x16, 0, 9)
	want = append(want, "a.example"...)
	want = append(want, 3)
	if !bytes.Equal(got, want) {
		t.Fatalf("wire form\n got %v\nwant %v", got, want)
	}
	if _, err := (&Unit{Type: 7}).Append(nil); err == nil {
		t.Fatal("unit type 7 encoded")
	}
	long := NewData(Value, strings.Repeat("x", MaxValue+1))
	if _, err := long.Append(nil); err == nil {
		t.Fatal("a value longer than the protocol carries was encoded")
	}
}

// TestRoundTrip decodes what it encodes, item presence included.
func TestRoundTrip(t *testing.T) {
	units := []Unit{
		NewData(Cmd, "conf-read", Section, "zone", ItemName, "domain"),
		NewData(Section, "zone", ItemName, "domain", Value, "a.example."),
		{Type: Extra},
		NewData(Error, "", Zone, "b.example"),
		NewData(Value, strings.Repeat("v", MaxValue)),
		{Type: Block},
	}
	d := NewDecoder(bytes.NewReader(encode(t, units...)))
	got, err := d.Answer()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(units)-1 {
		t.Fatalf("%d units, want %d", len(got), len(units)-1)
	}
	for i := range got {
		if got[i] != units[i] {
			t.Fatalf("unit %d: got %+v, want %+v", i, got[i], units[i])
		}
	}
	if v, ok := got[3].Get(Error); !ok || v != "" {
		t.Fatal("an empty error item was lost")
	}
	if got[3].Has(Value) {
		t.Fatal("an absent item appeared")
	}
}

// TestHostileInput: unknown and oversized input is ErrMalformed, a cut
// stream io.EOF or io.ErrUnexpectedEOF; never a panic or a hang.
func TestHostileInput(t *testing.T) {
	good := encode(t, NewData(Cmd, "status", Value, "Running"), Unit{Type: Block})
	cases := map[string][]byte{
		"empty":                 {},
		"unknown unit type":     {9},
		"unknown item code":     {1, 0x30, 0, 1, 'x', 3},
		"item code below items": {1, 0x0f, 0, 0, 3},
		"END inside an answer":  {1, 0x10, 0, 1, 'x', 0},
		"length cut":            {1, 0x10, 0},
		"value cut":             {1, 0x10, 0, 5, 'a', 'b'},
		"no BLOCK":              {1, 0x10, 0, 1, 'x'},
		"data then EOF":         {1},
	}
	for i := 1; i < len(good); i++ {
		cases["prefix "+string(rune('a'+i%26))+string(rune('0'+i/26))] = good[:i]
	}
	for name, in := range cases {
		_, err := NewDecoder(bytes.NewReader(in)).Answer()
		if err == nil {
			t.Errorf("%s: decoded", name)
			continue
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: %v, want ErrMalformed or EOF", name, err)
		}
	}
	huge := encode(t, NewData(Value, strings.Repeat("x", 1000)), NewData(Value, strings.Repeat("x", 1000)), Unit{Type: Block})
	d := NewDecoder(bytes.NewReader(huge))
	d.Limit = 1500
	if _, err := d.Answer(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("answer over the limit: %v", err)
	}
}

// FuzzDecoder: any input decodes or fails with a clear error; what
// decodes encodes back to a stream that decodes the same.
func FuzzDecoder(f *testing.F) {
	f.Add(encode(f, NewData(Cmd, "status"), Unit{Type: Block}))
	f.Add([]byte{1, 0x12, 0, 3, 'e', 'r', 'r', 0x16, 0, 1, 'z', 2, 0x1a, 0, 0, 3})
	f.Add([]byte{1, 0x1b, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		units, err := NewDecoder(bytes.NewReader(in)).Answer()
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unclear error %v", err)
			}
			return
		}
		again, err := NewDecoder(bytes.NewReader(encode(t, append(units, Unit{Type: Block})...))).Answer()
		if err != nil || len(again) != len(units) {
			t.Fatalf("re-encoded answer: %d units, %v; want %d", len(again), err, len(units))
		}
		for i := range again {
			if again[i] != units[i] {
				t.Fatalf("unit %d changed: %+v / %+v", i, again[i], units[i])
			}
		}
	})
}
