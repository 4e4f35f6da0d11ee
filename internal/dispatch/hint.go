package dispatch

import (
	"sync"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// A hint is a committed change handed to a worker by the process that
// committed it: the stored row (metadata) and, for a save, the zone as
// parsed at push time. A worker that keeps up applies hinted changes
// without reading the store first, so its latency does not depend on how
// busy the store's writer is with the other backends' bookkeeping. The
// store stays the source of truth: a worker still records what it applied
// there, and reads its due zones from it whenever a hint may have been
// lost (queue full, backend down, a restart), when a retry falls due, on
// a plain wake (Notify) and on its idle poll.
//
// Ordering. Hints of one zone must be given in commit order, each before
// the zone's next change commits (push.Service holds a per-zone lock from
// its write to its hint). Then a hint can never undo a newer version:
//   - hints are queued first in, first out, and a batch keeps only the
//     newest version of each zone;
//   - a pass that reads the store takes the hints queued until its read
//     returned and drops those the read covers (the same zone at the same
//     or a newer version). A hint the read does not cover was queued
//     after the previous pass's read returned, so no earlier pass can
//     have applied a newer version of its zone: its change commits only
//     after this hint was queued.
type hint struct {
	row store.Zone // Name, Version, Hash, Deleted
	z   *zone.Zone // the parsed zone of a save
}

// maxHints bounds a worker's queue of hints: past it the worker reads
// the store instead (a backend that falls behind by that much works in
// batches from the store anyway). It also bounds the parsed zones the
// queue keeps alive.
const maxHints = 256

type hintQueue struct {
	mu   sync.Mutex
	q    []hint
	lost bool // a hint was dropped (queue full, backend down)
}

// add queues h; it reports false when the queue is full (h is dropped).
func (h *hintQueue) add(x hint) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.q) >= maxHints {
		h.lost = true
		return false
	}
	h.q = append(h.q, x)
	return true
}

// take returns the queued hints and whether any was lost since the last
// take, and empties the queue.
func (h *hintQueue) take() ([]hint, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	q, lost := h.q, h.lost
	h.q, h.lost = nil, false
	return q, lost
}

// Hint hands a committed change to the worker and wakes it. row is the
// stored row (Name, Version, Hash, Deleted); z is the parsed zone of a
// save. A save without its parsed zone wakes the worker to read the
// store (Wake). See the ordering rule on hint.
func (w *Worker) Hint(row store.Zone, z *zone.Zone) {
	if !row.Deleted && (z == nil || z.Hash() != row.Hash) {
		w.Wake()
		return
	}
	if !w.hints.add(hint{row: metadata(row), z: z}) {
		w.wantDue.Store(true)
	}
	w.clock.arrived(time.Now())
	w.signal()
}

// metadata is the row without its texts, which a hint does not need.
func metadata(r store.Zone) store.Zone {
	r.Canonical, r.Original = "", ""
	return r
}

// Committed hands a committed change to every worker (see Worker.Hint):
// the workers whose last apply was slow first, the fast ones (the
// builtin) last. Go runs the goroutine woken last next on this processor
// (and queues the ones woken before it behind whatever already waits),
// so the builtin applies the change right after the push goroutine
// yields instead of after the SQL and daemon backends have each had
// their turn at the two CPUs.
func (d *Dispatcher) Committed(row store.Zone, z *zone.Zone) {
	var buf [16]*Worker
	for _, w := range d.wakeOrder(buf[:0]) {
		w.Hint(row, z)
	}
}

// wakeOrder appends the workers to buf in Committed's order: those whose
// last apply was slow, then the others, each group in d.workers' order.
func (d *Dispatcher) wakeOrder(buf []*Worker) []*Worker {
	for _, slow := range [2]bool{true, false} {
		for _, w := range d.workers {
			if w.slow.Load() == slow {
				buf = append(buf, w)
			}
		}
	}
	return buf
}

// hinted merges the hints taken after a read of the store (due, nil when
// the pass did not read) into the pass's work: a hint for a zone the
// read returned at the same or a newer version is covered and dropped;
// of several changes of one zone only the newest is kept. It returns the
// work and the parsed zones of the hints kept, by hash.
func hinted(due []store.Work, hs []hint) ([]store.Work, map[string]*zone.Zone) {
	if len(hs) == 0 {
		return due, nil
	}
	at := make(map[string]int, len(due)+len(hs)) // name → index in out
	out := make([]store.Work, 0, len(due)+len(hs))
	for _, wk := range due {
		at[wk.Zone.Name] = len(out)
		out = append(out, wk)
	}
	parsed := map[string]*zone.Zone{}
	for _, h := range hs {
		i, ok := at[h.row.Name]
		if ok && out[i].Zone.Version >= h.row.Version {
			continue
		}
		if h.z != nil {
			parsed[h.row.Hash] = h.z
		}
		if ok {
			out[i] = store.Work{Zone: h.row}
			continue
		}
		at[h.row.Name] = len(out)
		out = append(out, store.Work{Zone: h.row})
	}
	return out, parsed
}
