package powerdns

import "github.com/dadns/dadns/internal/backend/mysqldb"

// insert is a row to write for a zone.
type insert struct {
	domainID int64
	row
}

// diff is what turns the rows a zone has into the rows it should have.
type diff struct {
	del []int64
	ins []insert
}

// add diffs one zone (mysqldb.DiffRows): a row is kept when an enabled row
// with the same content exists (once: duplicates go); every other row is
// deleted and every missing one inserted. ordername is not compared: an
// operator's pdnsutil rectify-zone survives re-applies of unchanged rows.
func (d *diff) add(domainID int64, want []row, have []stored) {
	mysqldb.DiffRows(want, have, func(h stored) (row, bool, int64) { return h.row, h.disabled == 0, h.id },
		func(id int64) { d.del = append(d.del, id) },
		func(w row) { d.ins = append(d.ins, insert{domainID: domainID, row: w}) })
}

// empty reports a diff that writes nothing.
func (d *diff) empty() bool { return len(d.del) == 0 && len(d.ins) == 0 }
