package rndcproto

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// ErrBadAuth means a message's HMAC is missing or does not match the key.
var ErrBadAuth = errors.New("rndcproto: bad auth")

// algorithm is one HMAC the control channel knows, with BIND's number
// for it (DST's algorithm numbers), sent in the "hsha" field.
type algorithm struct {
	name string
	id   byte
	hash func() hash.Hash
}

var algorithms = []algorithm{
	{"hmac-md5", 157, md5.New},
	{"hmac-sha1", 161, sha1.New},
	{"hmac-sha224", 162, sha256.New224},
	{"hmac-sha256", 163, sha256.New},
	{"hmac-sha384", 164, sha512.New384},
	{"hmac-sha512", 165, sha512.New},
}

// Lengths of the base64 text of a signature: HMAC-MD5's is cut to 22
// characters (its padding dropped), the others are zero-padded to 88.
const (
	md5SigLen = 22
	shaSigLen = 88
)

// Key is a control channel key: its name, algorithm (hmac-md5,
// hmac-sha1, -sha224, -sha256, -sha384 or -sha512) and secret.
type Key struct {
	Name   string
	alg    algorithm
	secret []byte
}

// NewKey checks the algorithm name (case does not matter, as for rndc) and
// decodes the base64 secret.
func NewKey(name, alg, secret string) (Key, error) {
	k := Key{Name: name}
	found := false
	for _, a := range algorithms {
		if strings.EqualFold(a.name, alg) {
			k.alg, found = a, true
		}
	}
	if !found {
		return Key{}, fmt.Errorf("rndcproto: key %q: unsupported algorithm %q", name, alg)
	}
	s := strings.Join(strings.Fields(secret), "")
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Key{}, fmt.Errorf("rndcproto: key %q: secret is not base64: %w", name, err)
	}
	if len(raw) == 0 {
		return Key{}, fmt.Errorf("rndcproto: key %q: empty secret", name)
	}
	k.secret = raw
	return k, nil
}

// Algorithm returns the key's algorithm name.
func (k Key) Algorithm() string { return k.alg.name }

// signature returns the value of the _auth table's one field for data:
// "hmd5" with 22 characters of base64 for HMAC-MD5, else "hsha" with the
// algorithm's number and 88 characters of base64, zero-padded.
func (k Key) signature(data []byte) (string, []byte) {
	m := hmac.New(k.alg.hash, k.secret)
	m.Write(data)
	text := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if k.alg.id == 157 {
		return "hmd5", []byte(text[:md5SigLen])
	}
	sig := make([]byte, 1+shaSigLen)
	sig[0] = k.alg.id
	copy(sig[1:], text)
	return "hsha", sig
}

// Marshal renders a message as sent on the wire: length, version 1, an
// _auth table signing the rest, then the fields of t.
func Marshal(t Table, k Key) ([]byte, error) {
	body, err := appendTable(nil, t)
	if err != nil {
		return nil, err
	}
	field, sig := k.signature(body)
	auth, err := appendTable(nil, Table{{"_auth", Table{{field, sig}}}})
	if err != nil {
		return nil, err
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(4+len(auth)+len(body)))
	msg = binary.BigEndian.AppendUint32(msg, 1)
	msg = append(msg, auth...)
	return append(msg, body...), nil
}

// Unmarshal decodes a message read from the wire after its length field
// (version, then the top-level table) and checks that it starts with an
// _auth signed by k. Only the fields after _auth are returned.
func Unmarshal(msg []byte, k Key) (Table, error) {
	if len(msg) < 4 {
		return nil, fmt.Errorf("%w: %d bytes, no version", ErrMalformed, len(msg))
	}
	if v := binary.BigEndian.Uint32(msg); v != 1 {
		return nil, fmt.Errorf("%w: version %d, want 1", ErrMalformed, v)
	}
	msg = msg[4:]
	if len(msg) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrBadAuth)
	}
	first, signed, err := decodeField(msg, 0)
	if err != nil {
		return nil, err
	}
	if first.Key != "_auth" {
		return nil, fmt.Errorf("%w: message does not start with _auth", ErrBadAuth)
	}
	auth, ok := first.Value.(Table)
	if !ok {
		return nil, fmt.Errorf("%w: _auth is not a table", ErrBadAuth)
	}
	if err := k.verify(auth, signed); err != nil {
		return nil, err
	}
	t, err := decodeTable(signed, 0)
	if err != nil {
		return nil, err
	}
	if _, dup := t.Get("_auth"); dup {
		return nil, fmt.Errorf("%w: key \"_auth\" twice", ErrMalformed)
	}
	return t, nil
}

// verify compares the signature in auth with the one k makes of signed,
// in constant time.
func (k Key) verify(auth Table, signed []byte) error {
	field, want := k.signature(signed)
	got, ok := auth.Get(field)
	b, isBin := got.([]byte)
	if !ok || !isBin {
		return fmt.Errorf("%w: no %s signature (another algorithm than %s?)", ErrBadAuth, field, k.alg.name)
	}
	if len(b) != len(want) || subtle.ConstantTimeCompare(b, want) != 1 {
		return fmt.Errorf("%w: signature does not match key %q", ErrBadAuth, k.Name)
	}
	return nil
}
