package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/store"
)

// Volatile is implemented by backends that forget their zones when dadns
// stops (the in-process builtin server): their applied state is reset on
// start so every zone is applied again.
type Volatile interface {
	Volatile() bool
}

// Dispatcher owns one Worker per enabled backend instance.
type Dispatcher struct {
	st      store.Store
	workers []*Worker
	wg      sync.WaitGroup
}

// New builds workers for the given instances (name → backend).
func New(st store.Store, backends map[string]backend.Backend, opt Options) *Dispatcher {
	d := &Dispatcher{st: st}
	for name, b := range backends {
		d.workers = append(d.workers, NewWorker(name, b, st, opt))
	}
	return d
}

// DelayFirstRepair sets every worker's FirstRepairAfter (see Options);
// call it before Start.
func (d *Dispatcher) DelayFirstRepair(after time.Duration) {
	for _, w := range d.workers {
		w.opt.FirstRepairAfter = after
	}
}

// Workers returns the workers, one per backend instance.
func (d *Dispatcher) Workers() []*Worker { return d.workers }

// Start prepares the store for the configured instances and starts the
// loops. Removed instances' state is dropped (they stop being written);
// volatile instances start from nothing; new instances are filled because
// every zone is behind for them.
func (d *Dispatcher) Start(ctx context.Context) error {
	var keep []string
	for _, w := range d.workers {
		if v, ok := w.b.(Volatile); ok && v.Volatile() {
			continue
		}
		keep = append(keep, w.name)
	}
	if err := d.st.Forget(ctx, keep); err != nil {
		return fmt.Errorf("dispatch: prepare backend state: %w", err)
	}
	for _, w := range d.workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			_ = w.Run(ctx)
		}()
	}
	return nil
}

// Notify wakes every worker: a zone changed.
func (d *Dispatcher) Notify() {
	for _, w := range d.workers {
		w.Wake()
	}
}

// Wait blocks until every worker has stopped (after ctx passed to Start ends).
func (d *Dispatcher) Wait() { d.wg.Wait() }

// Statuses reports every worker.
func (d *Dispatcher) Statuses() []Status {
	out := make([]Status, len(d.workers))
	for i, w := range d.workers {
		out[i] = w.Status()
	}
	return out
}
