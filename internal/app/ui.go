package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/dadns/dadns/internal/activity"
	"github.com/dadns/dadns/internal/backend/builtin"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/ui"
	"github.com/dadns/dadns/internal/view"
)

// uiDeps is what the operator pages are built from.
type uiDeps struct {
	st       store.Store
	svc      *push.Service
	disp     *dispatch.Dispatcher
	rec      *reconcile.Reconciler
	backends *backendSet
	act      *activity.Recorder
	started  time.Time
	// secondaries reports the builtin's transfer clients (nil: none).
	secondaries func() any
}

// operatorUI returns the /ui/ handler: the pages when app.ui_enabled is
// on and admin credentials of their own are configured, otherwise a page
// saying which setting turns them on (nil when ui_enabled is false).
func operatorUI(ctx context.Context, cfg *config.Config, d uiDeps, log *slog.Logger) http.Handler {
	if !cfg.App.UIEnabled {
		return nil
	}
	if cfg.App.AdminUsername == "" {
		log.Info("operator UI off: set app.admin_username and app.admin_password to serve it under /ui/")
		return ui.Off("set app.admin_username and app.admin_password (the UI never opens with DirectAdmin's credentials)")
	}
	op, ok := d.st.(store.Operator)
	if !ok {
		log.Info("operator UI off: its pages need the SQLite datastore in this version")
		return ui.Off("the operator pages need the SQLite datastore in this version of dadns (datastore.type: sqlite)")
	}
	resolvers := map[string]ui.Resolver{}
	for name, b := range d.backends.byName {
		if bb, ok := b.(*builtin.Backend); ok {
			resolvers[name] = bb.Server()
		}
	}
	var rec ui.Reconciler
	if d.rec != nil {
		rec = d.rec
	}
	srv := ui.New(ui.Options{
		Store: op, Push: d.svc,
		Source: view.Source{Store: d.st, Workers: d.disp.Statuses, Reconciler: reconcileReport(d.rec),
			Secondaries: d.secondaries, Version: Version},
		Reconciler: rec, Activity: d.act, Resolvers: resolvers, Wake: d.disp.Notify,
		Started: d.started, RunContext: ctx, Logger: log,
	})
	log.Info("operator UI served under /ui/ (admin credentials)")
	return srv.Handler()
}
