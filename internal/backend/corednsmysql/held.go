package corednsmysql

import (
	"encoding/binary"

	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// heldZone is what the backend keeps of a zone it wrote, for Verify and
// Repair, for as long as it runs: one per zone, so it is kept small. The
// rows are packed into one string (about the size of the zone's text;
// a []row with its strings took well over twice as much) and unpacked only
// to describe or repair drift; the digest that Verify compares many zones
// at a time with is computed once, when the rows are written.
type heldZone struct {
	hash   string // the projection's canonical hash
	lim    limits // the column limits the rows were checked against
	digest mysqldb.Digest
	sure   bool   // digest can be compared with MariaDB's (see digest)
	packed string // the rows, as packRows writes them
}

// holdOf returns what held keeps of p.
func holdOf(p planned) heldZone {
	var r mysqldb.DigestRow
	d, ok := digest(&r, p.rows)
	return heldZone{hash: p.hash, lim: p.lim, digest: d, sure: ok, packed: packRows(p.rows)}
}

// planned returns the zone's rows as Apply planned them (without the zone).
func (h heldZone) planned(name zone.Name) planned {
	return planned{name: name, hash: h.hash, rows: unpackRows(h.packed), lim: h.lim}
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
