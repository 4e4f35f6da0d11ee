package mysqldb

import (
	"slices"
	"testing"
)

type heldRow struct {
	id   int64
	live bool
	row  string
}

func view(h heldRow) (string, bool, int64) { return h.row, h.live, h.id }

func diff(want []string, have []heldRow) (del []int64, ins []string) {
	DiffRows(want, have, view, func(id int64) { del = append(del, id) }, func(r string) { ins = append(ins, r) })
	return del, ins
}

func TestDiffRows(t *testing.T) {
	for _, c := range []struct {
		name string
		want []string
		have []heldRow
		del  []int64
		ins  []string
	}{
		{"new zone", []string{"a", "b", "b"}, nil, nil, []string{"a", "b", "b"}},
		{"as written", []string{"a", "b"}, []heldRow{{1, true, "a"}, {2, true, "b"}}, nil, nil},
		{"other order", []string{"a", "b"}, []heldRow{{1, true, "b"}, {2, true, "a"}}, nil, nil},
		{"changed", []string{"a", "c"}, []heldRow{{1, true, "a"}, {2, true, "b"}}, []int64{2}, []string{"c"}},
		{"not live", []string{"a"}, []heldRow{{1, false, "a"}}, []int64{1}, []string{"a"}},
		{"duplicate goes", []string{"a"}, []heldRow{{1, true, "a"}, {2, true, "a"}}, []int64{2}, nil},
		{"duplicate wanted", []string{"a", "a"}, []heldRow{{1, true, "a"}}, nil, []string{"a"}},
		{"zone emptied", nil, []heldRow{{1, true, "a"}}, []int64{1}, nil},
	} {
		del, ins := diff(c.want, c.have)
		if !slices.Equal(del, c.del) || !slices.Equal(ins, c.ins) {
			t.Errorf("%s: delete %v insert %v, want %v and %v", c.name, del, ins, c.del, c.ins)
		}
	}
}
