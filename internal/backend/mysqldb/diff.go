package mysqldb

// DiffRows turns the rows a zone has into the rows it should have, as a
// multiset: a row of have is kept when it is live (served: online, not
// disabled) and equals a row of want not matched yet (once: duplicates
// go); del gets the id of every other row of have, ins every row of want
// left unmatched. view returns a held row's content, whether it is live
// and its id. A zone with no rows inserts all of want, and rows read back
// exactly as written, in order, cost no map.
func DiffRows[R comparable, H any](want []R, have []H, view func(H) (R, bool, int64), del func(int64), ins func(R)) {
	if len(have) == 0 {
		for _, w := range want {
			ins(w)
		}
		return
	}
	if sameOrder(want, have, view) {
		return
	}
	need := make(map[R]int, len(want))
	for _, w := range want {
		need[w]++
	}
	for _, h := range have {
		r, live, id := view(h)
		if live && need[r] > 0 {
			need[r]--
			continue
		}
		del(id)
	}
	for _, w := range want {
		if need[w] > 0 {
			need[w]--
			ins(w)
		}
	}
}

// sameOrder reports whether have is exactly want, row by row, all live.
func sameOrder[R comparable, H any](want []R, have []H, view func(H) (R, bool, int64)) bool {
	if len(want) != len(have) {
		return false
	}
	for i, h := range have {
		if r, live, _ := view(h); !live || r != want[i] {
			return false
		}
	}
	return true
}
