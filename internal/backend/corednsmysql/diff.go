package corednsmysql

import "github.com/dadns/dadns/internal/backend/mysqldb"

// stored is a records row as read back.
type stored struct {
	id     int64
	online int64
	row
}

// insert is a row to write for a zone.
type insert struct {
	zoneID int64
	row
}

// diff is what turns the rows a zone has into the rows it should have.
type diff struct {
	del []int64
	ins []insert
}

// add diffs one zone (mysqldb.DiffRows): a row is kept when an online=1 row
// with the same content exists (once: duplicates go); every other row is
// deleted and every missing one inserted.
func (d *diff) add(zoneID int64, want []row, have []stored) {
	mysqldb.DiffRows(want, have, func(h stored) (row, bool, int64) { return h.row, h.online == 1, h.id },
		func(id int64) { d.del = append(d.del, id) },
		func(w row) { d.ins = append(d.ins, insert{zoneID: zoneID, row: w}) })
}

// empty reports a diff that writes nothing.
func (d *diff) empty() bool { return len(d.del) == 0 && len(d.ins) == 0 }
