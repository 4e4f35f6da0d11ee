package corednsmysql

import (
	"context"
	"encoding/binary"
	"errors"
	"unique"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// heldZone is what the backend keeps of a zone it wrote, for Verify and
// Repair, for as long as it runs: one per zone, so it is kept small. The
// rows are packed into one string (about the size of the zone's text;
// a []row with its strings took well over twice as much) and unpacked only
// to describe or repair drift; the digest that Verify compares many zones
// at a time with is computed once, when the rows are written. The packed
// rows are interned: instances of this backend that write the same zone
// (a second database, say) share one copy.
//
// Once the backend can read the zones dadns stores (SetDesired), it keeps
// the rows only of a zone whose digest cannot be compared (not sure):
// the others' rows are rebuilt from the stored zone in the rare case
// they are needed, when the digest read back differs.
type heldZone struct {
	hash   string // the projection's canonical hash
	lim    limits // the column limits the rows were checked against
	digest mysqldb.Digest
	sure   bool                  // digest can be compared with MariaDB's (see digest)
	kept   bool                  // packed holds the rows
	packed unique.Handle[string] // the rows, as packRows writes them
}

// holdOf returns what held keeps of p: its rows too when keepRows or
// when its digest is not sure.
func holdOf(p planned, keepRows bool) heldZone {
	var r mysqldb.DigestRow
	d, ok := digest(&r, p.rows)
	h := heldZone{hash: p.hash, lim: p.lim, digest: d, sure: ok}
	if keepRows || !ok {
		h.kept, h.packed = true, unique.Make(packRows(p.rows))
	}
	return h
}

// Desired returns the zone dadns stores under name (the desired state
// the dispatcher applies), or an error wrapping backend.ErrNotFound when
// it stores none.
type Desired = func(ctx context.Context, name zone.Name) (*zone.Zone, error)

// SetDesired gives the backend a way to read the zones dadns stores;
// from then on it keeps, of each zone it writes, the digest of its rows
// instead of the rows (see heldZone). Call it before the first Apply.
func (b *Backend) SetDesired(d Desired) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.desired = d
}

// plannedOf returns the rows Apply wrote for the held zone h: those kept,
// or else rebuilt from the zone dadns stores. ok is false when they
// cannot be known any more: the stored zone changed since it was written
// or is gone (its next apply or delete rewrites the rows anyway).
func (b *Backend) plannedOf(ctx context.Context, name zone.Name, h heldZone) (p planned, ok bool, err error) {
	if h.kept {
		return h.planned(name), true, nil
	}
	b.mu.Lock()
	desired := b.desired
	b.mu.Unlock()
	if desired == nil {
		return planned{}, false, nil
	}
	z, err := desired(ctx, name)
	if errors.Is(err, backend.ErrNotFound) {
		return planned{}, false, nil
	}
	if err != nil {
		return planned{}, false, err
	}
	s, err := Stored(z)
	if err != nil || s.Hash() != h.hash {
		return planned{}, false, nil
	}
	rows, err := rowsOf(s, h.lim)
	if err != nil {
		return planned{}, false, nil
	}
	return planned{z: s, name: name, hash: h.hash, rows: rows, lim: h.lim}, true, nil
}

// planned returns the zone's rows as Apply planned them (without the zone).
func (h heldZone) planned(name zone.Name) planned {
	return planned{name: name, hash: h.hash, rows: unpackRows(h.packed.Value()), lim: h.lim}
}

// packRows encodes rows as, for each row, its host, type and data, each
// a uvarint length and the bytes, then its TTL as a varint.
func packRows(rows []row) string {
	n := 0
	for _, w := range rows {
		n += len(w.host) + len(w.typ) + len(w.data) + 3*binary.MaxVarintLen16 + binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	for _, w := range rows {
		b = appendStr(b, w.host)
		b = appendStr(b, w.typ)
		b = appendStr(b, w.data)
		b = binary.AppendVarint(b, w.ttl)
	}
	return string(b)
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// unpackRows decodes what packRows encoded. The strings it returns share
// s's memory.
func unpackRows(s string) []row {
	var out []row
	for len(s) > 0 {
		var w row
		w.host, s = cutStr(s)
		w.typ, s = cutStr(s)
		w.data, s = cutStr(s)
		v, k := binary.Varint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
		if k <= 0 {
			panic("corednsmysql: corrupt packed rows")
		}
		w.ttl, s = v, s[k:]
		out = append(out, w)
	}
	return out
}

func cutStr(s string) (string, string) {
	n, k := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
	if k <= 0 || uint64(len(s)-k) < n {
		panic("corednsmysql: corrupt packed rows")
	}
	return s[k : k+int(n)], s[k+int(n):]
}
