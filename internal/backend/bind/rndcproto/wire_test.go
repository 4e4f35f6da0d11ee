package rndcproto

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

var testSecret = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func testKey(t testing.TB, alg string) Key {
	t.Helper()
	k, err := NewKey("k", alg, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sampleMessage() Table {
	return Table{
		{"_ctrl", Table{{"_ser", []byte("42")}, {"_tim", []byte("1700000000")}, {"_exp", []byte("1700000060")}}},
		{"_data", Table{{"type", []byte("reload example.com")}, {"list", List{[]byte("a"), Table{{"x", []byte("y")}}, List{}}}}},
	}
}

// TestRoundTrip signs and reads back a message with every algorithm,
// checks the _auth layout BIND expects, and that a wrong key, another
// algorithm or a changed byte is refused.
func TestRoundTrip(t *testing.T) {
	for _, a := range algorithms {
		t.Run(a.name, func(t *testing.T) {
			k := testKey(t, strings.ToUpper(a.name))
			msg, err := Marshal(sampleMessage(), k)
			if err != nil {
				t.Fatal(err)
			}
			if n := binary.BigEndian.Uint32(msg); int(n) != len(msg)-4 {
				t.Fatalf("length field %d, message %d", n, len(msg)-4)
			}
			body := msg[4:]
			got, err := Unmarshal(body, k)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := got.Table("_data")
			if typ, _ := data.String("type"); typ != "reload example.com" {
				t.Fatalf("type %q", typ)
			}
			if ser, ok := mustTable(t, got, "_ctrl").Uint32("_ser"); !ok || ser != 42 {
				t.Fatalf("_ser %d %v", ser, ok)
			}
			// _auth: one field, hmd5 of 22 bytes or hsha of 89 starting with the algorithm number.
			first, _, err := decodeField(body[4:], 0)
			if err != nil || first.Key != "_auth" {
				t.Fatalf("first field %q %v", first.Key, err)
			}
			auth := first.Value.(Table)
			if a.id == 157 {
				if v, _ := auth.Get("hmd5"); len(v.([]byte)) != 22 {
					t.Fatalf("hmd5 %q", v)
				}
			} else if v, _ := auth.Get("hsha"); len(v.([]byte)) != 89 || v.([]byte)[0] != a.id {
				t.Fatalf("hsha %q", v)
			}

			other, _ := NewKey("k", a.name, base64.StdEncoding.EncodeToString([]byte("another secret")))
			if _, err := Unmarshal(body, other); !errors.Is(err, ErrBadAuth) {
				t.Fatalf("wrong secret: %v", err)
			}
			alg := "hmac-sha256"
			if a.name == alg {
				alg = "hmac-sha512"
			}
			if _, err := Unmarshal(body, testKey(t, alg)); !errors.Is(err, ErrBadAuth) {
				t.Fatalf("other algorithm: %v", err)
			}
			for _, i := range []int{len(body) - 1, len(body) / 2} {
				bad := bytes.Clone(body)
				bad[i] ^= 1
				if _, err := Unmarshal(bad, k); err == nil {
					t.Fatalf("byte %d flipped: accepted", i)
				}
			}
		})
	}
}

func mustTable(t *testing.T, tb Table, key string) Table {
	t.Helper()
	v, ok := tb.Table(key)
	if !ok {
		t.Fatalf("no table %q in %v", key, tb)
	}
	return v
}

// TestKnownSignature pins the signature bytes against a value computed
// independently (openssl dgst -sha256 -hmac over the same bytes), so that
// sign and verify cannot both be wrong the same way.
func TestKnownSignature(t *testing.T) {
	k, err := NewKey("k", "hmac-sha256", base64.StdEncoding.EncodeToString([]byte("key")))
	if err != nil {
		t.Fatal(err)
	}
	field, sig := k.signature([]byte("The quick brown fox jumps over the lazy dog"))
	// HMAC-SHA256("key", ...) = f7bc83f4...d8 in base64:
	want := "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
	if field != "hsha" || sig[0] != 163 || string(bytes.TrimRight(sig[1:], "\x00")) != want {
		t.Fatalf("signature %s %q", field, sig)
	}
	k5, _ := NewKey("k", "hmac-md5", base64.StdEncoding.EncodeToString([]byte("key")))
	field, sig = k5.signature([]byte("The quick brown fox jumps over the lazy dog"))
	// HMAC-MD5 = 80070713463e7749b90c2dc24911e275, base64 without "==".
	if field != "hmd5" || string(sig) != "gAcHE0Y+d0m5DC3CSRHidQ" {
		t.Fatalf("md5 signature %s %q", field, sig)
	}
}

// TestDecodeHostile feeds the decoder cut, inflated and made-up input:
// every one is an error, none panics.
func TestDecodeHostile(t *testing.T) {
	k := testKey(t, "hmac-sha256")
	msg, err := Marshal(sampleMessage(), k)
	if err != nil {
		t.Fatal(err)
	}
	body := msg[4:]
	for n := range len(body) {
		if _, err := Unmarshal(body[:n], k); err == nil {
			t.Fatalf("message cut to %d of %d bytes accepted", n, len(body))
		}
	}
	var deep []byte // tables in tables, 100 deep
	for range 100 {
		deep = append(binary.BigEndian.AppendUint32([]byte{1, 'x', typeTable}, uint32(len(deep))), deep...)
	}
	cases := map[string][]byte{
		"version 2":        append([]byte{0, 0, 0, 2}, body[4:]...),
		"no auth":          append([]byte{0, 0, 0, 1}, mustAppend(t, sampleMessage())...),
		"auth not a table": append([]byte{0, 0, 0, 1, 5, '_', 'a', 'u', 't', 'h', typeBinary, 0, 0, 0, 0}, mustAppend(t, sampleMessage())...),
		"huge value":       {0, 0, 0, 1, 5, '_', 'a', 'u', 't', 'h', typeTable, 0xff, 0xff, 0xff, 0xff},
		"unknown type":     {0, 0, 0, 1, 5, '_', 'a', 'u', 't', 'h', 9, 0, 0, 0, 0},
		"key past end":     {0, 0, 0, 1, 200, '_'},
		"deep nesting":     append([]byte{0, 0, 0, 1}, deep...),
	}
	for name, in := range cases {
		if _, err := Unmarshal(in, k); err == nil || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrBadAuth)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := decodeTable([]byte{1, 'a', typeBinary, 0, 0, 0, 0, 1, 'a', typeBinary, 0, 0, 0, 0}, 0); !errors.Is(err, ErrMalformed) {
		t.Errorf("duplicate key: %v", err)
	}
	if _, err := decodeTable(deep, 0); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep nesting: %v", err)
	}
}

func mustAppend(t *testing.T, tb Table) []byte {
	b, err := appendTable(nil, tb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDecode: any input decodes or fails with an error, never panics;
// a table that decodes encodes again to the same bytes; and a message
// made of the input is refused unless it carries our signature.
func FuzzDecode(f *testing.F) {
	k := testKey(f, "hmac-sha256")
	msg, _ := Marshal(sampleMessage(), k)
	f.Add(msg[8:])
	f.Add([]byte{})
	f.Add([]byte{1, 'l', typeList, 0, 0, 0, 5, typeList, 0, 0, 0, 0})
	f.Add([]byte{5, '_', 'a', 'u', 't', 'h', typeTable, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if _, err := Unmarshal(append([]byte{0, 0, 0, 1}, in...), k); err == nil && !bytes.Equal(in, msg[8:]) {
			t.Fatalf("unsigned input accepted: %q", in)
		}
		tb, err := decodeTable(in, 0)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		out, err := appendTable(nil, tb)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("re-encoded %q, want %q (%v)", out, in, err)
		}
	})
}
