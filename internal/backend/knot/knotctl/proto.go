// Package knotctl speaks knotd's control protocol over its UNIX control
// socket (the socket "knotc -s" uses), so the knot backend can run the
// control actions it needs without starting a knotc process for each.
//
// The protocol, as libknot's control module defines it, is a stream of
// units. A unit starts with a one-byte type: END (0), DATA (1), EXTRA (2)
// or BLOCK (3). DATA and EXTRA units carry items, each a one-byte code
// (16 + the item's index: command, flags, error, section, item, id, zone,
// owner, ttl, type, data, filters), a two-byte big-endian length and that
// many bytes of text; a data unit ends where the next unit's type byte
// begins. A client sends a command as one or more DATA units and a BLOCK;
// knotd answers with DATA/EXTRA units and a BLOCK, and the client may send
// the next command on the same connection, or END and close.
package knotctl

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Type is a unit's type.
type Type byte

// Unit types.
const (
	End   Type = 0 // end of the conversation
	Data  Type = 1 // a data unit
	Extra Type = 2 // more values of the preceding data unit
	Block Type = 3 // end of a command or of its answer
)

func (t Type) String() string {
	switch t {
	case End:
		return "END"
	case Data:
		return "DATA"
	case Extra:
		return "EXTRA"
	case Block:
		return "BLOCK"
	}
	return fmt.Sprintf("TYPE%d", byte(t))
}

// Item indexes a data unit's items.
type Item int

// Items of a data unit, in knotd's order.
const (
	Cmd Item = iota
	Flags
	Error
	Section
	ItemName // the configuration item name ("domain" of zone.domain)
	ID
	Zone
	Owner
	TTL
	RRType
	Value // configuration item or record data
	Filters
	numItems
)

// itemCode is the wire code of item 0.
const itemCode = 16

// MaxValue is the longest item value the protocol can carry.
const MaxValue = 1<<16 - 1

// Unit is one unit; its items are set only for Data and Extra.
type Unit struct {
	Type  Type
	items [numItems]string
	set   uint16
}

// NewData returns a DATA unit with the given items (pairs of Item and
// value).
func NewData(kv ...any) Unit {
	u := Unit{Type: Data}
	for i := 0; i+1 < len(kv); i += 2 {
		u.Set(kv[i].(Item), kv[i+1].(string))
	}
	return u
}

// Set sets an item (present even when empty).
func (u *Unit) Set(i Item, v string) {
	u.items[i] = v
	u.set |= 1 << i
}

// Get returns an item and whether it is present.
func (u *Unit) Get(i Item) (string, bool) {
	return u.items[i], u.set&(1<<i) != 0
}

// Has reports whether an item is present.
func (u *Unit) Has(i Item) bool { return u.set&(1<<i) != 0 }

// Value returns an item, "" when absent.
func (u *Unit) Value(i Item) string { return u.items[i] }

// Append appends the unit's wire form to b.
func (u *Unit) Append(b []byte) ([]byte, error) {
	if u.Type > Block {
		return b, fmt.Errorf("knotctl: unit type %d", u.Type)
	}
	b = append(b, byte(u.Type))
	if u.Type != Data && u.Type != Extra {
		return b, nil
	}
	for i := range numItems {
		if u.set&(1<<i) == 0 {
			continue
		}
		v := u.items[i]
		if len(v) > MaxValue {
			return b, fmt.Errorf("knotctl: item %d is %d bytes long, the protocol carries at most %d", i, len(v), MaxValue)
		}
		b = append(b, byte(itemCode+int(i)))
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	return b, nil
}

// ErrMalformed is wrapped by every error about bytes that are not the
// control protocol.
var ErrMalformed = errors.New("knotctl: malformed control data")

// Decoder reads units from a stream.
type Decoder struct {
	r *bufio.Reader
	// Limit bounds the bytes one answer (Answer) may take; 0 means
	// DefaultLimit.
	Limit int
}

// DefaultLimit bounds an answer's size: a conf-read of 100,000 zones is
// a few megabytes.
const DefaultLimit = 256 << 20

// NewDecoder returns a Decoder reading r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 8<<10)}
}

// Next reads one unit and returns it with the bytes it took.
func (d *Decoder) Next() (Unit, int, error) {
	var u Unit
	c, err := d.r.ReadByte()
	if err != nil {
		return u, 0, err
	}
	n := 1
	if c > byte(Block) {
		return u, n, fmt.Errorf("%w: unit type code %d", ErrMalformed, c)
	}
	u.Type = Type(c)
	if u.Type != Data && u.Type != Extra {
		return u, n, nil
	}
	for {
		p, err := d.r.Peek(1)
		if err != nil {
			return u, n, truncated(err)
		}
		if p[0] <= byte(Block) {
			return u, n, nil // the next unit begins
		}
		idx := int(p[0]) - itemCode
		if idx < 0 || idx >= int(numItems) {
			return u, n, fmt.Errorf("%w: item code %d", ErrMalformed, p[0])
		}
		var hdr [3]byte
		if _, err := io.ReadFull(d.r, hdr[:]); err != nil {
			return u, n, truncated(err)
		}
		l := int(binary.BigEndian.Uint16(hdr[1:]))
		v := make([]byte, l)
		if _, err := io.ReadFull(d.r, v); err != nil {
			return u, n, truncated(err)
		}
		n += 3 + l
		u.Set(Item(idx), string(v))
	}
}

// Answer reads units up to and including the BLOCK that ends an answer and
// returns them without it.
func (d *Decoder) Answer() ([]Unit, error) {
	limit := d.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	var out []Unit
	total := 0
	for {
		u, n, err := d.Next()
		if err != nil {
			return out, err
		}
		total += n
		if total > limit {
			return out, fmt.Errorf("%w: answer longer than %d bytes", ErrMalformed, limit)
		}
		switch u.Type {
		case Block:
			return out, nil
		case End:
			return out, fmt.Errorf("%w: END inside an answer", ErrMalformed)
		}
		out = append(out, u)
	}
}

// truncated turns an end of stream inside a unit into io.ErrUnexpectedEOF:
// the peer went away (knotd stopped), which is not malformed data.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
