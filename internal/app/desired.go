package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// desiredSetter is implemented by backends that keep less of each zone
// they write once they can read the zones dadns stores back
// (coredns_mysql keeps its rows' digest instead of the rows).
type desiredSetter interface {
	SetDesired(func(ctx context.Context, name zone.Name) (*zone.Zone, error))
}

// setDesired hands every backend that wants it a reader of the stored
// zones (storedZone).
func (s *backendSet) setDesired(st store.Store, parsed *zone.Cache) {
	for _, b := range s.byName {
		if d, ok := b.(desiredSetter); ok {
			d.SetDesired(storedZone(st, parsed))
		}
	}
}

// storedZone returns a reader of the live zone stored under a name,
// parsed (from the shared cache when it holds it), or an error wrapping
// backend.ErrNotFound when there is none.
func storedZone(st store.Store, parsed *zone.Cache) func(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	return func(ctx context.Context, name zone.Name) (*zone.Zone, error) {
		sz, err := st.Get(ctx, string(name))
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("stored zone %s: %w", name, backend.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("stored zone %s: %w", name, err)
		}
		if z := parsed.Get(name, sz.Hash); z != nil {
			return z, nil
		}
		z, err := zone.Parse(name, []byte(sz.Canonical), zone.Limits{MaxRecords: 1 << 30})
		if err != nil {
			return nil, fmt.Errorf("stored zone %s: %w", name, err)
		}
		if z.Hash() != sz.Hash {
			return nil, fmt.Errorf("stored zone %s does not hash to its recorded hash", name)
		}
		return z, nil
	}
}
