package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// errChanged skips an action whose zone a push changed after the plan.
var errChanged = errors.New("changed since the plan")

// apply carries out the plan's actions through the push service and
// counts what was done per kind.
func (r *Reconciler) apply(ctx context.Context, p Plan, rep *Report, results []ServerResult) {
	texts := map[string]map[string][]byte{}
	for _, s := range results {
		texts[s.Host] = s.Texts
	}
	for _, a := range p.Actions {
		if ctx.Err() != nil {
			rep.Error = ctx.Err().Error()
			return
		}
		err := r.applyOne(ctx, a, texts[a.Server][a.Zone])
		switch {
		case errors.Is(err, errChanged):
			rep.Skipped++
			r.log.Info("reconcile: zone changed since the plan; left to the push", "zone", a.Zone, "action", a.Kind)
		case err != nil:
			rep.Failed++
			r.log.Warn("reconcile: action failed", "zone", a.Zone, "action", a.Kind, "server", a.Server, "err", err)
		default:
			rep.Applied[a.Kind]++
			r.log.Info("reconcile: "+string(a.Kind), "zone", a.Zone, "server", a.Server, "reason", a.Reason)
		}
	}
}

// applyOne carries out one action; text, when not nil, is the zone's text
// the probe read from a.Server in this pass.
func (r *Reconciler) applyOne(ctx context.Context, a Action, text []byte) error {
	if err := r.unchanged(ctx, a); err != nil {
		return err
	}
	name := zone.Name(a.Zone)
	if a.Kind == Delete {
		out, err := r.opt.Push.Delete(ctx, name, a.From) // the owner as stored
		if err == nil && out != push.Deleted {
			return errChanged
		}
		return err
	}
	c := r.client(a.Server)
	if c == nil {
		return fmt.Errorf("reconcile: %s %s: server %s not configured", a.Kind, a.Zone, a.Server)
	}
	if text == nil {
		var err error
		if text, err = c.ZoneText(ctx, a.Zone); err != nil {
			return err
		}
	}
	_, err := r.opt.Push.Save(ctx, name, text, a.Server, a.User)
	return err
}

// unchanged checks the stored version is still the one the plan saw.
func (r *Reconciler) unchanged(ctx context.Context, a Action) error {
	cur, err := r.opt.Store.Lookup(ctx, a.Zone)
	var v int64
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		v = cur.Version
	}
	if v != a.Version {
		return errChanged
	}
	return nil
}
