// Package rndcproto speaks BIND's control channel (the protocol of rndc)
// directly: the ISC "cc" message format over TCP, authenticated with an
// HMAC key, and the rndc configuration (rndc.conf or rndc.key) that says
// where named listens and with which key.
//
// A message on the wire is a 4-byte big-endian length, then a 4-byte
// version (1), then the fields of the top-level table. A field is a 1-byte
// key length, the key, a 1-byte type, a 4-byte big-endian length and the
// value: binary data (1), a table of fields (2) or a list of values (3).
// The top-level table starts with "_auth" (the HMAC of everything after
// it), then "_ctrl" (serial, times, nonce) and "_data" (the command).
package rndcproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Value types on the wire.
const (
	typeBinary = 1
	typeTable  = 2
	typeList   = 3
)

// maxDepth bounds how deeply tables and lists may nest in a message
// dadns reads; named's messages nest two levels.
const maxDepth = 16

// ErrMalformed is wrapped by every error about a message that does not
// decode.
var ErrMalformed = errors.New("rndcproto: malformed message")

// Field is one key and its value in a Table. Value is a []byte, a Table or
// a List.
type Field struct {
	Key   string
	Value any
}

// Table is an ordered set of fields with distinct keys.
type Table []Field

// List is a sequence of values ([]byte, Table or List).
type List []any

// Get returns the value of key.
func (t Table) Get(key string) (any, bool) {
	for _, f := range t {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// Table returns the table stored under key.
func (t Table) Table(key string) (Table, bool) {
	v, _ := t.Get(key)
	tt, ok := v.(Table)
	return tt, ok
}

// String returns the binary value stored under key as text.
func (t Table) String(key string) (string, bool) {
	v, _ := t.Get(key)
	b, ok := v.([]byte)
	return string(b), ok
}

// Uint32 returns the binary value under key read as a decimal number, the
// way BIND stores serials, times, nonces and results.
func (t Table) Uint32(key string) (uint32, bool) {
	s, ok := t.String(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// appendTable appends the fields of t (without a type or length of its
// own).
func appendTable(b []byte, t Table) ([]byte, error) {
	for _, f := range t {
		if len(f.Key) > 255 {
			return nil, fmt.Errorf("rndcproto: key %.20q... longer than 255 bytes", f.Key)
		}
		b = append(b, byte(len(f.Key)))
		b = append(b, f.Key...)
		var err error
		if b, err = appendValue(b, f.Value); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case []byte:
		b = append(b, typeBinary)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		return append(b, v...), nil
	case string:
		return appendValue(b, []byte(v))
	case Table:
		b = append(b, typeTable, 0, 0, 0, 0)
		start := len(b)
		if b, err = appendTable(b, v); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(b[start-4:], uint32(len(b)-start))
		return b, nil
	case List:
		b = append(b, typeList, 0, 0, 0, 0)
		start := len(b)
		for _, e := range v {
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		binary.BigEndian.PutUint32(b[start-4:], uint32(len(b)-start))
		return b, nil
	}
	return nil, fmt.Errorf("rndcproto: cannot encode a %T", v)
}

// decodeTable reads fields until b is used up.
func decodeTable(b []byte, depth int) (Table, error) {
	var t Table
	for len(b) > 0 {
		f, rest, err := decodeField(b, depth)
		if err != nil {
			return nil, err
		}
		if _, dup := t.Get(f.Key); dup {
			return nil, fmt.Errorf("%w: key %q twice in a table", ErrMalformed, f.Key)
		}
		t = append(t, f)
		b = rest
	}
	return t, nil
}

// decodeField reads one key and its value from the start of b.
func decodeField(b []byte, depth int) (Field, []byte, error) {
	n := int(b[0])
	if len(b) < 1+n {
		return Field{}, nil, fmt.Errorf("%w: key of %d bytes cut short", ErrMalformed, n)
	}
	key := string(b[1 : 1+n])
	v, rest, err := decodeValue(b[1+n:], depth)
	if err != nil {
		return Field{}, nil, fmt.Errorf("%w (in %q)", err, key)
	}
	return Field{Key: key, Value: v}, rest, nil
}

// decodeValue reads one typed value from the start of b.
func decodeValue(b []byte, depth int) (any, []byte, error) {
	if len(b) < 5 {
		return nil, nil, fmt.Errorf("%w: value header cut short", ErrMalformed)
	}
	typ, n := b[0], binary.BigEndian.Uint32(b[1:5])
	b = b[5:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: value of %d bytes with %d left", ErrMalformed, n, len(b))
	}
	body, rest := b[:n], b[n:]
	if typ != typeBinary && depth >= maxDepth {
		return nil, nil, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, maxDepth)
	}
	switch typ {
	case typeBinary:
		return body, rest, nil
	case typeTable:
		t, err := decodeTable(body, depth+1)
		return t, rest, err
	case typeList:
		var l List
		for len(body) > 0 {
			v, r, err := decodeValue(body, depth+1)
			if err != nil {
				return nil, nil, err
			}
			l = append(l, v)
			body = r
		}
		return l, rest, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown value type %d", ErrMalformed, typ)
}
