package bind

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/bind/rndcproto"
	"github.com/dadns/dadns/internal/zone"
)

// Apply writes the zones' files, checks them the way named loads them,
// rewrites the include when zones are new, and activates the batch with as
// few rndc calls as it allows. A zone named would refuse fails alone and
// permanently; an rndc failure fails the zones it was for.
func (b *Backend) Apply(ctx context.Context, zones []*zone.Zone) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.op.Lock()
	defer b.op.Unlock()
	zones, fails := validZones(zones)
	files, err := b.stage(ctx, zones)
	if err != nil {
		return err
	}
	bad, err := b.check.check(ctx, b.needsCheck(files))
	if err != nil {
		discard(files)
		return err
	}
	files = dropBad(files, bad, &fails)
	if err := b.commit(files); err != nil {
		return err
	}
	added, changed, err := b.record(files)
	if err != nil {
		return err
	}
	fails = append(fails, b.activate(ctx, added > 0, changed)...)
	err = errors.Join(fails...)
	b.expect(zones, err)
	return err
}

// expect hands the verification poller the zones just activated.
func (b *Backend) expect(zones []*zone.Zone, err error) {
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	b.poll.ExpectApplied(zones, err, deadline)
}

// safeZone is safe; tests replace it to let a zone named refuses reach
// named unchecked.
var safeZone = safe

// needsCheck returns the staged files named-checkconf must see before
// named does: those not safe (see safe), or all of them when the zone
// options make named refuse what it would otherwise only warn about.
func (b *Backend) needsCheck(files []staged) []staged {
	if b.opt.CheckNames != "ignore" || b.opt.MaxRecordsPerType > 0 || b.opt.MaxTypesPerName > 0 {
		return files
	}
	var out []staged
	for _, s := range files {
		if !safeZone(s.Z) {
			out = append(out, s)
		}
	}
	return out
}

// validZones drops zones whose names must never reach a file or the
// include, and keeps the last of duplicate names.
func validZones(zones []*zone.Zone) ([]*zone.Zone, []error) {
	var fails []error
	last := map[zone.Name]int{}
	for i, z := range zones {
		last[z.Name] = i
	}
	out := make([]*zone.Zone, 0, len(zones))
	for i, z := range zones {
		if err := checkName(z.Name); err != nil {
			fails = append(fails, &backend.ZoneError{Zone: z.Name, Err: backend.Permanent(err)})
			continue
		}
		if last[z.Name] == i {
			out = append(out, z)
		}
	}
	return out, fails
}

// dropBad removes the refused zones' temporary files and records why.
func dropBad(files []staged, bad map[zone.Name]error, fails *[]error) []staged {
	if len(bad) == 0 {
		return files
	}
	kept := files[:0]
	for _, s := range files {
		if err, ok := bad[s.Z.Name]; ok {
			discard([]staged{s})
			*fails = append(*fails, &backend.ZoneError{Zone: s.Z.Name, Err: err})
			continue
		}
		kept = append(kept, s)
	}
	return kept
}

// record enters the installed files in the zone set; it returns how many
// zones are new to the include and the names of those named already has.
// When zones are new, the include is written first and the zone set
// changes only once it is on disk: after a failed write the zones are
// still new to the retry, which writes the include and reconfigures.
func (b *Backend) record(files []staged) (added int, changed []zone.Name, err error) {
	b.mu.RLock()
	for _, s := range files {
		if old, known := b.zones[s.Z.Name]; !known || old.file != s.Final {
			added++
		} else {
			changed = append(changed, s.Z.Name)
		}
	}
	b.mu.RUnlock()
	set := func(zones map[zone.Name]entry) {
		for _, s := range files {
			zones[s.Z.Name] = entry{file: s.Final, serial: s.Z.Serial, hash: s.Z.Hash()}
		}
	}
	if added == 0 { // the same statements: no include to write
		b.mu.Lock()
		set(b.zones)
		b.mu.Unlock()
		return 0, changed, nil
	}
	next := b.zoneSet()
	set(next)
	if err := b.writeInclude(next); err != nil {
		return 0, nil, err
	}
	return added, changed, nil
}

// zoneSet returns a copy of the zone set, for a change that must reach the
// include before it is committed.
func (b *Backend) zoneSet() map[zone.Name]entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return maps.Clone(b.zones)
}

// activate tells named: "rndc reconfig" when the include changed, then
// "rndc reload <zone>" per changed zone, or a single "rndc reload" when
// that costs named less (reloadAll). It returns a ZoneError per zone that
// was not activated.
func (b *Backend) activate(ctx context.Context, added bool, changed []zone.Name) []error {
	b.mu.Lock()
	reconfig := added || b.dirty
	all := b.reloadAll(len(changed))
	b.mu.Unlock()
	var fails []error
	switch {
	case all:
		if err := b.rndc.run(ctx, "reload"); err != nil {
			return b.allFailed(err)
		}
		b.setClean()
	case reconfig:
		if err := b.rndc.run(ctx, "reconfig"); err != nil {
			return b.allFailed(err)
		}
		b.setClean()
	}
	if !all {
		for _, n := range changed {
			if err := b.rndc.run(ctx, "reload", string(n)); err != nil {
				if namedUnreachable(err) {
					// Not this zone's fault: the batch fails as a whole,
					// so the dispatcher probes named instead of trying
					// (and logging) every zone one by one.
					return b.allFailed(err)
				}
				fails = append(fails, &backend.ZoneError{Zone: n, Err: err})
			}
		}
	}
	b.mu.Lock()
	b.settle = time.Now().Add(b.opt.VerifyTimeout)
	b.mu.Unlock()
	return fails
}

// fullReloadShare: one "rndc reload" pays for reading every zone
// statement and checking every zone file named holds, so it is cheaper
// than a "rndc reload <zone>" per changed zone only once the batch
// changes at least this share (1/n) of the zones held. Measured with
// named 9.18 on the 2-core test machine: a full reload at 2,000 zones
// cost named 110 ms of CPU (55 µs per zone held, growing with them); one
// zone's reload over a kept control connection 0.1 ms for the command
// plus its zone's load (0.3 ms for a DirectAdmin zone), so the two meet
// near one changed zone in seven or eight held.
const fullReloadShare = 8

// reloadAll reports whether a batch changing n existing zones is
// activated by one "rndc reload" instead of one per zone: more than
// ReloadAllAbove of them, and at least 1/fullReloadShare of the zones
// held. With a fixed count alone, a steady stream of single pushes
// gathered into batches of a few dozen made named reread its whole
// configuration every batch (at 2,000 zones a quarter of the machine's
// CPU went to it). Called with b.mu held.
func (b *Backend) reloadAll(n int) bool {
	return n > b.opt.ReloadAllAbove && n*fullReloadShare >= len(b.zones)
}

// namedUnreachable reports whether an rndc error says named could not be
// asked at all (not running, not listening, the connection cut, no
// answer in time) rather than named refusing the command for one zone.
func namedUnreachable(err error) bool {
	var refused *rndcproto.CommandError
	if errors.As(err, &refused) {
		return false
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) { // the rndc binary: its words
		msg := err.Error()
		return strings.Contains(msg, "connect failed") || strings.Contains(msg, "timed out") ||
			strings.Contains(msg, "connection to remote host closed")
	}
	return true
}

// allFailed is the batch failure of an activation: every zone of the batch
// is retried (the include stays marked for a reconfig).
func (b *Backend) allFailed(err error) []error {
	return []error{fmt.Errorf("bind: activate: %w", err)}
}

func (b *Backend) setClean() {
	b.mu.Lock()
	b.dirty = false
	b.mu.Unlock()
}

// Delete removes the zones' statements from the include, tells named with
// one "rndc reconfig", then removes their files (also files dadns finds
// there without having written them: the zone is deleted).
func (b *Backend) Delete(ctx context.Context, names []zone.Name) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.op.Lock()
	defer b.op.Unlock()
	var fails []error
	valid := make([]zone.Name, 0, len(names))
	for _, n := range names {
		if err := checkName(n); err != nil {
			fails = append(fails, &backend.ZoneError{Zone: n, Err: backend.Permanent(err)})
			continue
		}
		valid = append(valid, n)
	}
	if err := b.forget(valid); err != nil {
		return err
	}
	b.mu.RLock()
	dirty := b.dirty
	b.mu.RUnlock()
	if dirty {
		if err := b.rndc.run(ctx, "reconfig"); err != nil {
			return fmt.Errorf("bind: activate delete: %w", err)
		}
		b.setClean()
	}
	if err := b.removeFiles(valid); err != nil {
		return err
	}
	return errors.Join(fails...)
}

// forget removes names from the include and then from the zone set. A
// failed write leaves both as they were, so the retry writes the include
// again and named is reconfigured before the delete counts as done.
func (b *Backend) forget(names []zone.Name) error {
	next := b.zoneSet()
	n := len(next)
	for _, name := range names {
		delete(next, name)
	}
	if len(next) == n {
		return nil
	}
	return b.writeInclude(next)
}
