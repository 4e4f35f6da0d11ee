package app

import (
	"context"
	"log/slog"
	"maps"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/store"
)

// isBuiltin picks the builtin instances out of the configured backends.
func isBuiltin(bc config.Backend) bool { return bc.Type == config.TypeBuiltin }

// notBuiltin picks every other instance.
func notBuiltin(bc config.Backend) bool { return !isBuiltin(bc) }

// startBackends constructs the backends in the order that lets the
// builtin servers answer soonest after a start: the builtins first (each
// binds its DNS port, so a port in use still fails the start), then their
// load of the stored zones begins in the background while the other
// backends are constructed. Those may read thousands of zone files or
// wait on their daemon (knot's start-up resync waits up to 30 s for a
// knotd that does not answer); none of that delays the builtin's
// answers. A backend whose construction fails still fails the start, as
// before; the load is stopped and waited for first.
//
// The caller must call load.stop (also on success, e.g. deferred) before
// closing the returned sets; the builtins and the others are closed
// separately, each by its own close.
func startBackends(ctx context.Context, cfg *config.Config, st store.Store, log *slog.Logger) (builtins, others *backendSet, load *builtinLoad, err error) {
	builtins, err = buildBackends(ctx, cfg, log, isBuiltin)
	if err != nil {
		return nil, nil, nil, err
	}
	// Catalog groups are read when a catalog is built: set them before
	// the first zone goes in.
	builtins.setCatalogGroups(cfg, st)
	load = startLoad(ctx, st, builtins, log)
	others, err = buildBackends(ctx, cfg, log, notBuiltin)
	if err != nil {
		load.stop()
		builtins.close()
		return nil, nil, nil, err
	}
	return builtins, others, load, nil
}

// union is the set of every backend of a and b (names are unique across
// the configuration); closing it is left to a and b.
func union(a, b *backendSet) *backendSet {
	out := &backendSet{byName: maps.Clone(a.byName)}
	maps.Copy(out.byName, b.byName)
	return out
}

// builtinLoad is loadBuiltins running in the background.
type builtinLoad struct {
	cancel context.CancelFunc
	done   chan struct{}
	zones  int // stored zones read, once done
	err    error
}

// startLoad runs loadBuiltins on set in its own goroutine until it
// returns or ctx ends.
func startLoad(ctx context.Context, st store.Store, set *backendSet, log *slog.Logger) *builtinLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &builtinLoad{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.zones, l.err = loadBuiltins(ctx, st, set, log)
	}()
	return l
}

// wait blocks until the load has ended and returns how many stored zones
// it read and its error.
func (l *builtinLoad) wait() (int, error) {
	<-l.done
	return l.zones, l.err
}

// stop ends the load if it is still running and waits until it has.
func (l *builtinLoad) stop() {
	l.cancel()
	<-l.done
}
