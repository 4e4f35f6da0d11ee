package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/backend/builtin"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// loadChunk is how many zone texts are read from the store, rebuilt and
// handed to the builtins at a time: the parsed form of at most this many
// zones is held at once (the servers keep their own packed form), and each
// part costs the server one pass over its table.
const loadChunk = 5000

// loadBuiltins puts every live zone of the store into each builtin
// backend before its DNS sockets answer, so a restart never refuses a
// zone dadns holds. Zones that could not be loaded are marked failed and
// due now, so the backend's worker applies them and shows why they fail.
// It returns how many stored zones it read (0 without a builtin).
func loadBuiltins(ctx context.Context, st store.Store, set *backendSet, log *slog.Logger) (int, error) {
	var targets []string
	for name, b := range set.byName {
		if _, ok := b.(*builtin.Backend); ok {
			targets = append(targets, name)
		}
	}
	if len(targets) == 0 {
		return 0, nil
	}
	start := time.Now()
	bad := map[zone.Name]error{}
	failed := make(map[string]map[zone.Name]error, len(targets))
	for _, name := range targets {
		failed[name] = map[zone.Name]error{}
	}
	total := 0
	err := eachStoredChunk(ctx, st, func(zones []*zone.Zone, errs map[zone.Name]error) error {
		total += len(zones)
		maps.Copy(bad, errs)
		for _, name := range targets {
			f, err := set.byName[name].(*builtin.Backend).Preload(ctx, zones)
			if err != nil {
				return err
			}
			maps.Copy(failed[name], f)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("load stored zones: %w", err)
	}
	for _, name := range targets {
		f, err := set.byName[name].(*builtin.Backend).Load(ctx, nil)
		if err != nil {
			return 0, fmt.Errorf("dns.backends.%s: %w", name, err)
		}
		maps.Copy(failed[name], f)
		if err := markUnloaded(ctx, st, name, bad, failed[name]); err != nil {
			return 0, err
		}
		log.Info("builtin DNS server answering", "backend", name, "zones", total-len(failed[name]),
			"not_loaded", len(bad)+len(failed[name]), "seconds", time.Since(start).Seconds())
	}
	return total, nil
}

// eachStoredChunk reads the live zones from the store loadChunk at a time,
// rebuilds each part from its canonical texts on every core and hands it
// to fn with the zones whose text could not be rebuilt and why.
func eachStoredChunk(ctx context.Context, st store.Store, fn func([]*zone.Zone, map[zone.Name]error) error) error {
	meta, err := st.List(ctx)
	if err != nil {
		return err
	}
	names := make([]string, len(meta))
	for i, z := range meta {
		names[i] = z.Name
	}
	for lo := 0; lo < len(names); lo += loadChunk {
		rows, err := st.Zones(ctx, names[lo:min(lo+loadChunk, len(names))])
		if err != nil {
			return err
		}
		zs, errs := rebuildAll(rows)
		clear(rows)
		if err := fn(zs, errs); err != nil {
			return err
		}
	}
	return nil
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
