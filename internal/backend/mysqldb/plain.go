package mysqldb

import (
	"strconv"
	"sync"
)

// PlainName reports an absolute name that miekg/dns prints as it is and
// reads back as itself: labels of 1 to 63 lower-case letters, digits,
// '-', '_' and '*' (none of which it escapes), at most 253 characters
// without the final dot. The SQL backends skip the print-and-parse check
// of records whose names are plain.
func PlainName(name string) bool {
	if len(name) < 2 || len(name) > 254 || name[len(name)-1] != '.' {
		return false
	}
	label := 0
	for i := range len(name) - 1 {
		switch c := name[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '*':
		default:
			return false
		}
		if label++; label > 63 {
			return false
		}
	}
	return label > 0
}

// Decimal reports a number as miekg/dns prints it (no sign, no leading
// zero) of at most maxVal.
func Decimal(s string, maxVal uint64) bool {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n <= maxVal
}

// DataMemo remembers a value per record type and canonical data, up to
// max entries (then it starts again), for any number of goroutines: what
// a backend already worked out for data that reads back the same whatever
// its owner.
type DataMemo[V any] struct {
	max int
	mu  sync.Mutex
	m   map[[2]string]V
}

// NewDataMemo returns an empty memo of at most max entries.
func NewDataMemo[V any](max int) *DataMemo[V] { return &DataMemo[V]{max: max} }

// Get returns the value kept for typ and data.
func (m *DataMemo[V]) Get(typ, data string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[[2]string{typ, data}]
	return v, ok
}

// Put keeps v for typ and data.
func (m *DataMemo[V]) Put(typ, data string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= m.max {
		m.m = make(map[[2]string]V, 256) // full: start again
	}
	m.m[[2]string{typ, data}] = v
}

// Len is how many entries the memo holds.
func (m *DataMemo[V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// Reset forgets every entry.
func (m *DataMemo[V]) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m = nil
}
