package dispatch

import (
	"context"
	"fmt"
	"sync"

	"github.com/dadns/dadns/internal/store"
)

// recorder writes a worker's applied marks to the store in the
// background, so that the worker takes its next change while the store's
// writer is busy with pushes and the other backends' bookkeeping. Marks
// that arrive while a write runs go together in the next one. Every read
// of the worker's due zones waits for the marks before it (flush), so a
// read never returns a zone as due that the backend already serves. A
// crash loses at most some marks: those zones are applied again.
type recorder struct {
	mu      sync.Mutex
	pending []store.Applied
	done    chan struct{} // closed when the running write goroutine ends; nil: none runs
	err     error         // of a write since the last flush
}

// add queues marks; a goroutine writes them (and what comes meanwhile)
// with record, which must not be canceled by the worker's end.
func (r *recorder) add(marks []store.Applied, record func([]store.Applied) error) {
	if len(marks) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, marks...)
	if r.done != nil {
		return
	}
	r.done = make(chan struct{})
	go r.run(record, r.done)
}

func (r *recorder) run(record func([]store.Applied) error, done chan struct{}) {
	for {
		r.mu.Lock()
		batch := r.pending
		r.pending = nil
		if len(batch) == 0 {
			r.done = nil
			close(done)
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		if err := record(batch); err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
		}
	}
}

// flush waits until every mark queued so far is written and returns the
// error of any write since the last flush (the zones of a failed write
// stay due in the store and are applied again).
func (r *recorder) flush() error {
	r.mu.Lock()
	for r.done != nil {
		done := r.done
		r.mu.Unlock()
		<-done
		r.mu.Lock()
	}
	err := r.err
	r.err = nil
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("dispatch: record applied: %w", err)
	}
	return nil
}

// record is the worker's write of applied marks.
func (w *Worker) record(ctx context.Context) func([]store.Applied) error {
	rec := context.WithoutCancel(ctx)
	return func(marks []store.Applied) error { return w.st.Applied(rec, w.name, marks) }
}
