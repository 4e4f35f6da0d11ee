package mysqldb

import (
	"sync"
	"time"
)

// ReadAhead lets a backend's Verify read back, in one query, the rows of
// many zones one Apply wrote, instead of one query per zone: the
// dispatcher verifies every zone of a batch right after applying it, and
// a query's round trip costs far more than the rows it reads.
//
// Written marks zones as written and not verified since. The first Take
// of such a zone reads it together with up to Max-1 other such zones
// (through the backend's check) and keeps the others' verdicts; each
// verdict answers one Take of its zone only, within MaxAge of the read.
// A zone is so checked by a read made after its write, as a read of its
// own would be, only in a statement shared with other zones. A verdict
// of "differs" is never final: the backend reads the zone again alone to
// say what differs.
//
// The zero ReadAhead reads nothing ahead. It is safe for concurrent use.
type ReadAhead[K comparable] struct {
	Max    int           // zones per read, at least 1
	MaxAge time.Duration // how long a verdict stays usable
	Now    func() time.Time

	mu       sync.Mutex
	pending  map[K]bool
	verdicts map[K]verdict
	epoch    uint64 // counts the writes and resets: a read overtaken by one keeps no verdicts
}

type verdict struct {
	same bool
	at   time.Time
}

// Written notes zones written (committed) and not verified since.
func (r *ReadAhead[K]) Written(keys []K) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = make(map[K]bool, len(keys))
	}
	for _, k := range keys {
		r.pending[k] = true
		delete(r.verdicts, k)
	}
	r.epoch++
}

// Reset forgets every pending zone and verdict (before a write whose
// outcome they would not reflect).
func (r *ReadAhead[K]) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending, r.verdicts = nil, nil
	r.epoch++
}

// Forget forgets the zones' pending state and verdicts.
func (r *ReadAhead[K]) Forget(keys []K) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		delete(r.pending, k)
		delete(r.verdicts, k)
	}
	r.epoch++
}

// Take returns whether key's rows were found the same as written, and
// known = false when nothing was read ahead for it (it was not written
// since the last Reset, or already verified, or the read failed): then
// the caller reads it alone. check reads the given zones in one go and
// says, for each, whether its rows are those written; it runs without
// the lock held.
func (r *ReadAhead[K]) Take(key K, check func(keys []K) (map[K]bool, error)) (same, known bool) {
	now := r.now()
	r.mu.Lock()
	if v, ok := r.verdicts[key]; ok {
		delete(r.verdicts, key)
		if now.Sub(v.at) <= r.MaxAge {
			r.mu.Unlock()
			return v.same, true
		}
	}
	if !r.pending[key] || r.Max < 1 {
		r.mu.Unlock()
		return false, false
	}
	keys := make([]K, 0, min(r.Max, len(r.pending)))
	keys = append(keys, key)
	delete(r.pending, key)
	for k := range r.pending {
		if len(keys) >= r.Max {
			break
		}
		keys = append(keys, k)
		delete(r.pending, k)
	}
	epoch := r.epoch
	r.mu.Unlock()

	got, err := check(keys)
	if err != nil {
		return false, false
	}
	at := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.epoch != epoch {
		return got[key], true // written meanwhile: the others are read again alone
	}
	if r.verdicts == nil {
		r.verdicts = make(map[K]verdict, len(keys))
	}
	for _, k := range keys[1:] {
		r.verdicts[k] = verdict{same: got[k], at: at}
	}
	return got[key], true
}

func (r *ReadAhead[K]) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Verdicts counts the verdicts kept, not yet taken.
func (r *ReadAhead[K]) Verdicts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.verdicts)
}
