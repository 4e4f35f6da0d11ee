// Package memory is an in-memory backend: the reference implementation of
// backend.Backend, used to test the dispatcher (with injected failures) and
// the conformance suite itself.
package memory

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Backend keeps zones in a map.
type Backend struct {
	mu      sync.Mutex
	zones   map[zone.Name]*zone.Zone
	fail    map[zone.Name]error
	down    error
	unreach error
	applies int
	batches []int
	probes  int
	calls   int
}

// New returns an empty backend.
func New() *Backend {
	return &Backend{zones: map[zone.Name]*zone.Zone{}, fail: map[zone.Name]error{}}
}

// FailZone makes every Apply of name fail with err (nil clears it).
func (b *Backend) FailZone(name zone.Name, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.fail, name)
	} else {
		b.fail[name] = err
	}
}

// SetDown makes every call fail with err, as an unreachable server would
// (nil brings it back).
func (b *Backend) SetDown(err error) {
	b.mu.Lock()
	b.down = err
	b.mu.Unlock()
}

// SetUnreachable makes Apply, Delete and Probe fail with err while Zone
// and Zones still answer from what was stored, as a backend that reads
// its own files does while its server is down (bind with named stopped).
// nil brings it back.
func (b *Backend) SetUnreachable(err error) {
	b.mu.Lock()
	b.unreach = err
	b.mu.Unlock()
}

// Calls returns how many times Apply and Delete were called, failed
// calls included.
func (b *Backend) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// Stats returns how many zones were applied and the size of each batch.
func (b *Backend) Stats() (applies int, batches []int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.applies, append([]int(nil), b.batches...)
}

// Probe implements backend.Prober: it fails with the error given to
// SetDown while the backend is down.
func (b *Backend) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probes++
	if b.down != nil {
		return b.down
	}
	return b.unreach
}

// Probes returns how many times Probe was called.
func (b *Backend) Probes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.probes
}

// Apply stores the zones; zones set to fail are reported per zone.
func (b *Backend) Apply(ctx context.Context, zones []*zone.Zone) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.down != nil {
		return b.down
	}
	if b.unreach != nil {
		return b.unreach
	}
	var errs []error
	for _, z := range zones {
		if err := b.fail[z.Name]; err != nil {
			errs = append(errs, &backend.ZoneError{Zone: z.Name, Err: err})
			continue
		}
		b.zones[z.Name] = z
		b.applies++
	}
	b.batches = append(b.batches, len(zones))
	return errors.Join(errs...)
}

// Delete removes the zones.
func (b *Backend) Delete(ctx context.Context, names []zone.Name) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.down != nil {
		return b.down
	}
	if b.unreach != nil {
		return b.unreach
	}
	for _, n := range names {
		delete(b.zones, n)
	}
	return nil
}

// Zone returns a stored zone.
func (b *Backend) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down != nil {
		return nil, b.down
	}
	z, ok := b.zones[name]
	if !ok {
		return nil, backend.ErrNotFound
	}
	return z, nil
}

// Zones lists the stored zones, sorted.
func (b *Backend) Zones(ctx context.Context) ([]zone.Name, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down != nil {
		return nil, b.down
	}
	out := make([]zone.Name, 0, len(b.zones))
	for n := range b.zones {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
