package dispatch

import (
	"fmt"
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
	// Down is set while the backend does not answer its probe: nothing is
	// applied until it does. LastError then says why, and since when.
	Down      bool      `json:"down,omitempty"`
	DownSince time.Time `json:"down_since,omitzero"`
}

type statusBox struct {
	mu      sync.Mutex
	s       Status
	downErr string // LastError while down
}

func (b *statusBox) setDown(since time.Time, err error) {
	b.mu.Lock()
	b.s.Down, b.s.DownSince = true, since
	b.downErr = fmt.Sprintf("backend down since %s: %v", since.UTC().Format(time.RFC3339), err)
	b.s.LastError = b.downErr
	b.mu.Unlock()
}

func (b *statusBox) setUp() {
	b.mu.Lock()
	b.s.Down, b.s.DownSince, b.downErr = false, time.Time{}, ""
	b.s.LastError = ""
	b.mu.Unlock()
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

func (b *statusBox) pass(at time.Time, err error) {
	b.mu.Lock()
	b.s.LastPass, b.s.LastError = at, b.downErr
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
