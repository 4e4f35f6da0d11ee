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
	need := make(map[string]int, len(want))
	for _, w := range want {
		need[w.key()]++
	}
	for _, h := range have {
		k := h.key()
		if h.online == 1 && need[k] > 0 {
			need[k]--
			continue
		}
		d.del = append(d.del, h.id)
	}
	for _, w := range want {
		k := w.key()
		if need[k] > 0 {
			need[k]--
			d.ins = append(d.ins, insert{zoneID: zoneID, row: w})
		}
	}
}

// empty reports a diff that writes nothing.
func (d *diff) empty() bool { return len(d.del) == 0 && len(d.ins) == 0 }
