package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// errChanged skips an action whose zone a push changed after the plan.
var errChanged = errors.New("changed since the plan")

// errStillOnDA skips a delete whose zone a server still serves the text of.
var errStillOnDA = errors.New("still on DirectAdmin")

// applyParallel bounds the actions carried out at once: independent zones,
// whose pushes the store commits in groups (one fsync for those waiting),
// and whose texts DA serves a few at a time.
const applyParallel = 4

// apply carries out the plan's actions through the push service and
// counts what was done per kind.
func (r *Reconciler) apply(ctx context.Context, p Plan, rep *Report, results []ServerResult) {
	texts := map[string]map[string][]byte{}
	for _, s := range results {
		texts[s.Host] = s.Texts
	}
	var mu sync.Mutex
	sem := make(chan struct{}, applyParallel)
	var wg sync.WaitGroup
	for _, a := range p.Actions {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := r.applyOne(ctx, a, texts[a.Server][a.Zone])
			mu.Lock()
			defer mu.Unlock()
			r.count(rep, a, err)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		rep.Error = ctx.Err().Error()
	}
}

// count records one action's outcome in the report and the log.
func (r *Reconciler) count(rep *Report, a Action, err error) {
	switch {
	case errors.Is(err, errChanged):
		rep.Skipped++
		r.log.Info("reconcile: zone changed since the plan; left to the push", "zone", a.Zone, "action", a.Kind)
	case errors.Is(err, errStillOnDA):
		rep.Skipped++
		r.log.Warn("reconcile: not deleted: a server still has the zone's text though its listing lacked it", "zone", a.Zone, "err", err)
	case err != nil:
		rep.Failed++
		r.log.Warn("reconcile: action failed", "zone", a.Zone, "action", a.Kind, "server", a.Server, "err", err)
	default:
		rep.Applied[a.Kind]++
		r.log.Info("reconcile: "+string(a.Kind), "zone", a.Zone, "server", a.Server, "reason", a.Reason)
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
		if err := r.confirmGone(ctx, a.Zone); err != nil {
			return err
		}
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

// confirmGone asks every configured server for the zone's text before it
// is deleted: a listing read page by page while DA's zones change can miss
// a zone at a page boundary, and a delete is the one action that loses
// data. A server that answers with the text vetoes the delete; any other
// answer leaves the listing's word standing.
func (r *Reconciler) confirmGone(ctx context.Context, name string) error {
	for _, c := range r.servers {
		if _, err := c.ZoneText(ctx, name); err == nil {
			return fmt.Errorf("%w: %s serves it", errStillOnDA, c.Host())
		}
	}
	return nil
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
