package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
)

// startReconciler starts the timed reconciliation passes when enabled.
// (Being written: issue 6.)
func startReconciler(ctx context.Context, cfg *config.Config, st *store.Store, svc *push.Service, log *slog.Logger) {
	if cfg.Reconciliation.Enabled {
		log.Warn("reconciliation is configured but not available in this version")
	}
}

// reconcileCommand runs `dadns reconcile [--dry-run]`.
func reconcileCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "dadns: reconcile is not available in this version")
	return 1
}
