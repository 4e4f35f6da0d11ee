package importer

import (
	"context"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// LiveReader is the part of the store an import reads.
type LiveReader interface {
	Live(ctx context.Context, names []string) (map[string]store.Zone, error)
}

// PushTarget imports through the push path: the same validation,
// ownership rules and durable commit as a DirectAdmin push.
type PushTarget struct {
	Push  *push.Service
	Store LiveReader
}

// Held implements Target.
func (t PushTarget) Held(ctx context.Context, names []string) (map[string]Held, error) {
	live, err := t.Store.Live(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Held, len(live))
	for n, z := range live {
		out[n] = Held{Hash: z.Hash, Serial: z.Serial, OwnerHost: z.OwnerHost, OwnerUser: z.OwnerUser}
	}
	return out, nil
}

// Save implements Target.
func (t PushTarget) Save(ctx context.Context, name zone.Name, text []byte, host, user string) error {
	_, err := t.Push.Save(ctx, name, text, host, user)
	return err
}

// SameOwner implements Target.
func (t PushTarget) SameOwner(a, b string) bool { return t.Push.Owners().Same(a, b) }
