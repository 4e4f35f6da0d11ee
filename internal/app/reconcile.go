package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/mysql"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/zone"
)

// startReconciler starts the timed reconciliation passes when enabled and
// returns the reconciler (nil when disabled), whose Last report the status
// endpoint shows.
func startReconciler(ctx context.Context, cfg *config.Config, st store.Store, svc *push.Service, log *slog.Logger, cl *cluster) *reconcile.Reconciler {
	if !cfg.Reconciliation.Enabled {
		return nil
	}
	opt := reconcilerOptions(cfg, st, svc, log)
	if cl != nil {
		// One node reconciles; the lease outlives one interval so its
		// holder keeps it, and passes to another node when it stops.
		opt.Gate = cl.leaseGate(opt.Interval*3/2 + time.Minute)
	}
	r := reconcile.New(ctx, opt)
	go r.Run(ctx)
	return r
}

// reconcilerOptions maps the reconciliation section onto the reconciler.
func reconcilerOptions(cfg *config.Config, st store.Store, svc *push.Service, log *slog.Logger) reconcile.Options {
	rc := cfg.Reconciliation
	var backends []string
	for _, b := range cfg.EnabledBackends() {
		backends = append(backends, b.Name)
	}
	return reconcile.Options{
		Store: st, Push: svc, Servers: rc.DirectAdminServers, VerifySSL: rc.VerifySSL, IPP: rc.IPP,
		MaxDeleteFraction: rc.MaxDeleteFraction, Aliases: cfg.App.OwnerAliases, DryRun: rc.DryRun,
		Interval:     time.Duration(rc.IntervalMinutes) * time.Minute,
		InitialDelay: time.Duration(rc.InitialDelayMinutes) * time.Minute,
		Backends:     backends, ZoneLimits: zone.Limits{MaxRecords: cfg.Limits.MaxRecordsPerZone},
		Logger: log,
	}
}

// ownerAliases are the owner identities the push service should know:
// app.owner_aliases merged with each DirectAdmin server's aliases.
func ownerAliases(cfg *config.Config) push.Owners {
	return push.NewOwners(reconcile.Aliases(cfg.Reconciliation.DirectAdminServers, cfg.App.OwnerAliases))
}

// reconcileFlags defines `dadns reconcile [--dry-run]`: one pass, the
// plan printed; with --dry-run (or reconciliation.dry_run) nothing changes.
func reconcileFlags(fl *flag.FlagSet) func(in *invocation) int {
	dry := fl.Bool("dry-run", false, "print the plan and change nothing")
	return func(in *invocation) int {
		cfg := in.config()
		if cfg == nil {
			return 1
		}
		if len(cfg.Reconciliation.DirectAdminServers) == 0 {
			fmt.Fprintln(in.stderr, "dadns: reconcile: no reconciliation.directadmin_servers configured")
			return 1
		}
		if err := reconcileOnce(in.ctx, cfg, *dry || cfg.Reconciliation.DryRun, in.stdout, in.stderr); err != nil {
			fmt.Fprintf(in.stderr, "dadns: reconcile: %v\n", err)
			return 1
		}
		return 0
	}
}

func reconcileOnce(ctx context.Context, cfg *config.Config, dry bool, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	st, _ = joinCluster(cfg, st)
	svc := push.New(push.Options{
		Store: st, MaxZones: cfg.Limits.MaxZones, ZoneLimits: zone.Limits{MaxRecords: cfg.Limits.MaxRecordsPerZone},
		Owners: ownerAliases(cfg), Logger: log,
	})
	r := reconcile.New(ctx, reconcilerOptions(cfg, st, svc, log))
	rep, plan, err := r.RunOnce(ctx, dry)
	if err != nil {
		return err
	}
	reconcile.WritePlan(stdout, plan)
	writeOutcome(stdout, rep)
	return nil
}

// writeOutcome prints what the pass did (or, dry, that it did nothing).
func writeOutcome(w io.Writer, rep reconcile.Report) {
	if rep.DryRun {
		fmt.Fprintln(w, "dry run: nothing changed")
		return
	}
	fmt.Fprintf(w, "done: %d fetched, %d migrated, %d backfilled, %d deleted; %d failed, %d skipped (changed meanwhile)\n",
		rep.Applied[reconcile.Fetch], rep.Applied[reconcile.Migrate], rep.Applied[reconcile.Backfill],
		rep.Applied[reconcile.Delete], rep.Failed, rep.Skipped)
	for _, b := range rep.Backends {
		fmt.Fprintf(w, "backend %s: %d behind, %d failing, %d failed permanently (the dispatcher heals them)\n",
			b.Backend, b.Behind, b.Failing, b.Permanent)
	}
}

// Both stores hand reconciliation their live zones row by row.
var (
	_ reconcile.LiveStreamer = (*sqlite.Store)(nil)
	_ reconcile.LiveStreamer = (*mysql.Store)(nil)
)
