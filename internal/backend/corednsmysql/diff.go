package corednsmysql

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

// add diffs one zone: a row is kept when an online=1 row with the same
// content exists (once: duplicates go); every other row is deleted and
// every missing one inserted.
func (d *diff) add(zoneID int64, want []row, have []stored) {
	if len(have) == 0 { // a new zone: every row to write
		for _, w := range want {
			d.ins = append(d.ins, insert{zoneID: zoneID, row: w})
		}
		return
	}
	if sameOrder(want, have) { // the rows as written, read back in order: nothing to do
		return
	}
	need := make(map[row]int, len(want))
	for _, w := range want {
		need[w]++
	}
	for _, h := range have {
		if h.online == 1 && need[h.row] > 0 {
			need[h.row]--
			continue
		}
		d.del = append(d.del, h.id)
	}
	for _, w := range want {
		if need[w] > 0 {
			need[w]--
			d.ins = append(d.ins, insert{zoneID: zoneID, row: w})
		}
	}
}

// empty reports a diff that writes nothing.
func (d *diff) empty() bool { return len(d.del) == 0 && len(d.ins) == 0 }

// sameOrder reports whether have is exactly want, row by row, all online.
func sameOrder(want []row, have []stored) bool {
	if len(want) != len(have) {
		return false
	}
	for i, h := range have {
		if !(h.online == 1) || h.row != want[i] {
			return false
		}
	}
	return true
}
