package powerdns

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

// add diffs one zone: a row is kept when an enabled row with the same
// content exists (once: duplicates go); every other row is deleted and
// every missing one inserted. ordername is not compared: an operator's
// pdnsutil rectify-zone survives re-applies of unchanged rows.
func (d *diff) add(domainID int64, want []row, have []stored) {
	if len(have) == 0 { // a new zone: every row to write
		for _, w := range want {
			d.ins = append(d.ins, insert{domainID: domainID, row: w})
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
		if h.disabled == 0 && need[h.row] > 0 {
			need[h.row]--
			continue
		}
		d.del = append(d.del, h.id)
	}
	for _, w := range want {
		if need[w] > 0 {
			need[w]--
			d.ins = append(d.ins, insert{domainID: domainID, row: w})
		}
	}
}

// empty reports a diff that writes nothing.
func (d *diff) empty() bool { return len(d.del) == 0 && len(d.ins) == 0 }

// sameOrder reports whether have is exactly want, row by row, all enabled.
func sameOrder(want []row, have []stored) bool {
	if len(want) != len(have) {
		return false
	}
	for i, h := range have {
		if !(h.disabled == 0) || h.row != want[i] {
			return false
		}
	}
	return true
}
