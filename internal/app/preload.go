package app

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/backend/builtin"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// loadChunk is how many zone texts are read from the store at a time.
const loadChunk = 1000

// loadBuiltins puts every live zone of the store into each builtin
// backend before its DNS sockets answer, so a restart never refuses a
// zone dadns holds. Zones that could not be loaded are marked failed and
// due now, so the backend's worker applies them and shows why they fail.
func loadBuiltins(ctx context.Context, st store.Store, set *backendSet, log *slog.Logger) error {
	var targets []string
	for name, b := range set.byName {
		if _, ok := b.(*builtin.Backend); ok {
			targets = append(targets, name)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	start := time.Now()
	zones, bad, err := readStoredZones(ctx, st)
	if err != nil {
		return fmt.Errorf("load stored zones: %w", err)
	}
	for _, name := range targets {
		failed, err := set.byName[name].(*builtin.Backend).Load(ctx, zones)
		if err != nil {
			return fmt.Errorf("dns.backends.%s: %w", name, err)
		}
		if err := markUnloaded(ctx, st, name, bad, failed); err != nil {
			return err
		}
		log.Info("builtin DNS server answering", "backend", name, "zones", len(zones)-len(failed),
			"not_loaded", len(bad)+len(failed), "seconds", time.Since(start).Seconds())
	}
	return nil
}

// readStoredZones reads every live zone from the store and rebuilds it
// from its canonical text on every core. Zones whose text cannot be
// rebuilt are returned apart with the reason.
func readStoredZones(ctx context.Context, st store.Store) ([]*zone.Zone, map[zone.Name]error, error) {
	meta, err := st.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(meta))
	for i, z := range meta {
		names[i] = z.Name
	}
	var out []*zone.Zone
	bad := map[zone.Name]error{}
	for lo := 0; lo < len(names); lo += loadChunk {
		rows, err := st.Zones(ctx, names[lo:min(lo+loadChunk, len(names))])
		if err != nil {
			return nil, nil, err
		}
		zs, errs := rebuildAll(rows)
		out = append(out, zs...)
		for n, e := range errs {
			bad[n] = e
		}
	}
	return out, bad, nil
}

// rebuildAll turns stored rows into zones in parallel, skipping tombstones
// (a zone deleted since it was listed).
func rebuildAll(rows map[string]store.Zone) ([]*zone.Zone, map[zone.Name]error) {
	work := make(chan store.Zone)
	var mu sync.Mutex
	var out []*zone.Zone
	errs := map[zone.Name]error{}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sz := range work {
				z, err := rebuild(sz)
				mu.Lock()
				if err != nil {
					errs[zone.Name(sz.Name)] = err
				} else {
					out = append(out, z)
				}
				mu.Unlock()
			}
		}()
	}
	for _, sz := range rows {
		if !sz.Deleted {
			work <- sz
		}
	}
	close(work)
	wg.Wait()
	return out, errs
}

// rebuild reads a stored canonical text back, by the quick path when the
// text is canonical as this version writes it, else by a full parse.
func rebuild(sz store.Zone) (*zone.Zone, error) {
	n := zone.Name(sz.Name)
	if z, err := zone.FromCanonical(n, sz.Canonical, sz.Hash); err == nil {
		return z, nil
	}
	z, err := zone.Parse(n, []byte(sz.Canonical), zone.Limits{MaxRecords: 1 << 30})
	if err != nil {
		return nil, err
	}
	if z.Hash() != sz.Hash {
		return nil, fmt.Errorf("stored zone %s does not hash to its recorded hash", n)
	}
	return z, nil
}

// markUnloaded records the zones a builtin could not load as failed and
// due now: its worker then applies them like any other due zone.
func markUnloaded(ctx context.Context, st store.Store, backendName string, sets ...map[zone.Name]error) error {
	var fails []store.Failure
	for _, m := range sets {
		for n, err := range m {
			z, lerr := st.Get(ctx, string(n))
			if lerr != nil {
				continue // deleted meanwhile: its tombstone is due anyway
			}
			fails = append(fails, store.Failure{Name: z.Name, Version: z.Version, Err: "not loaded at start: " + err.Error(), Next: time.Now()})
		}
	}
	if err := st.Failed(ctx, backendName, fails); err != nil {
		return fmt.Errorf("dns.backends.%s: record zones not loaded: %w", backendName, err)
	}
	return nil
}
