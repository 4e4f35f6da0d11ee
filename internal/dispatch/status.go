package dispatch

import (
	"sync"
	"time"
)

// Status is what a worker reports about itself.
type Status struct {
	Backend   string    `json:"backend"`
	Alive     bool      `json:"alive"`
	LastPass  time.Time `json:"last_pass,omitzero"`
	LastError string    `json:"last_error,omitempty"` // of the last pass (store or backend-wide), "" when it went well
	Died      string    `json:"died,omitempty"`       // why the loop stopped, when it stopped abnormally
	// Unreachable is set while the backend's last batch failed as a whole
	// (it does not answer); cleared once it answers again.
	Unreachable bool `json:"unreachable,omitempty"`
}

type statusBox struct {
	mu sync.Mutex
	s  Status
}

func (b *statusBox) start() {
	b.mu.Lock()
	b.s.Alive, b.s.Died = true, ""
	b.mu.Unlock()
}

func (b *statusBox) stop() {
	b.mu.Lock()
	b.s.Alive = false
	b.mu.Unlock()
}

func (b *statusBox) die(why string) {
	b.mu.Lock()
	b.s.Alive, b.s.Died = false, why
	b.mu.Unlock()
}

func (b *statusBox) reach(down bool) {
	b.mu.Lock()
	b.s.Unreachable = down
	b.mu.Unlock()
}

func (b *statusBox) pass(at time.Time, err error) {
	b.mu.Lock()
	b.s.LastPass, b.s.LastError = at, ""
	if err != nil {
		b.s.LastError = err.Error()
	}
	b.mu.Unlock()
}

// Status returns the worker's current status.
func (w *Worker) Status() Status {
	w.status.mu.Lock()
	defer w.status.mu.Unlock()
	s := w.status.s
	s.Backend = w.name
	return s
}
