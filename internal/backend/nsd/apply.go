package nsd

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Apply writes the zones' files, checks with nsd-checkzone those NSD
// serves already that hold records outside the plain types (see plain),
// records them in the file dadns owns and activates the batch with as few
// nsd-control runs as it allows. A changed zone NSD would refuse fails
// alone and permanently, and NSD keeps serving its previous version; a
// new zone is not checked beforehand: NSD loading it is its check, and
// Verify finds a zone NSD refused and why (see README, Checks). An
// nsd-control failure fails the zones it was for.
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
	bad, err := b.check.check(ctx, b.risky(files))
	if err != nil {
		discard(files)
		return err
	}
	files = dropBad(files, bad, &fails)
	if err := b.commit(files); err != nil {
		return err
	}
	added, changed := b.record(files)
	if len(added) > 0 {
		if err := b.writeInclude(); err != nil {
			return err
		}
	}
	fails = append(fails, b.activate(ctx, files, added, changed)...)
	err = errors.Join(fails...)
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	b.poll.ExpectApplied(zones, err, deadline)
	return err
}

// validZones drops zones whose names must never reach a file, the include
// or nsd-control, and keeps the last of duplicate names.
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

// risky returns the staged files to check before installing them: zones
// dadns holds in NSD already under the same file (NSD serves them, and a
// file it refuses would take the served version down) that are not
// plain.
func (b *Backend) risky(files []staged) []staged {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []staged
	for _, s := range files {
		if e, ok := b.zones[s.Z.Name]; ok && e.file == s.Final && !plain(s.Z) {
			out = append(out, s)
		}
	}
	return out
}

// record enters the installed files in the zone set; it returns the zones
// new to it and those it held already.
func (b *Backend) record(files []staged) (added, changed []zone.Name) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range files {
		old, known := b.zones[s.Z.Name]
		b.zones[s.Z.Name] = entry{file: s.Final, serial: s.Z.Serial, hash: s.Z.Hash(), active: old.active && known}
		if !known || old.file != s.Final {
			added = append(added, s.Z.Name)
		} else {
			changed = append(changed, s.Z.Name)
		}
	}
	return added, changed
}

// activate tells NSD about the batch and returns a ZoneError per zone
// that was not activated, or one batch error.
func (b *Backend) activate(ctx context.Context, files []staged, added, changed []zone.Name) []error {
	defer b.settleFrom(time.Now())
	if len(files) == 0 {
		return nil
	}
	var fails []error
	if b.opt.Mode == ModeAddZone {
		// Every zone NSD has not accepted from this process, not only
		// the new ones: NSD answers "already exists" for those it has,
		// and adds back any its zonelistfile lost.
		names := b.inactive(files)
		if len(names) > 0 {
			bad, err := b.ctl.list(ctx, "addzones", names, b.opt.Pattern)
			if err != nil {
				return []error{fmt.Errorf("nsd: activate: %w", err)}
			}
			for n, e := range bad {
				fails = append(fails, &backend.ZoneError{Zone: n, Err: e})
			}
			b.setActive(names, bad, true)
		}
	} else if len(added) > 0 || b.isDirty() {
		if err := b.ctl.run(ctx, "reconfig"); err != nil {
			return []error{fmt.Errorf("nsd: activate: %w", err)}
		}
		b.setDirty(false)
	}
	return append(fails, b.reload(ctx, changed)...)
}

// reload has NSD read the changed zones' files: one "reload <zone>" each,
// or a single "reload" when there are many.
func (b *Backend) reload(ctx context.Context, changed []zone.Name) []error {
	if len(changed) > b.opt.ReloadAllAbove {
		if err := b.ctl.run(ctx, "reload"); err != nil {
			if nsdUnreachable(err) {
				return []error{fmt.Errorf("nsd: activate: %w", err)}
			}
			fails := make([]error, len(changed))
			for i, n := range changed {
				fails[i] = &backend.ZoneError{Zone: n, Err: err}
			}
			return fails
		}
		return nil
	}
	var fails []error
	for _, n := range changed {
		err := b.ctl.run(ctx, "reload", string(n))
		if err != nil && b.opt.Mode == ModeAddZone && strings.Contains(err.Error(), "not configured") {
			// NSD lost the zone (its zonelistfile was reset): add it back.
			err = b.ctl.run(ctx, "addzone", string(n), b.opt.Pattern)
		}
		if err != nil && nsdUnreachable(err) {
			// Not this zone's fault: the batch fails as a whole, so the
			// dispatcher probes NSD instead of trying (and logging)
			// every zone one by one.
			return append(fails, fmt.Errorf("nsd: activate: %w", err))
		}
		if err != nil {
			fails = append(fails, &backend.ZoneError{Zone: n, Err: err})
			// "not configured": reconfig or addzone on the retry.
			b.setDirty(true)
			b.setActive([]zone.Name{n}, nil, false)
		}
	}
	return fails
}

// nsdUnreachable reports whether a control error says NSD could not be
// asked at all (not running, its control port closed, the connection
// cut, no answer in time) rather than NSD answering an error for the
// zone.
func nsdUnreachable(err error) bool {
	if errors.Is(err, errAnswered) {
		return false
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) { // nsd-control: its words
		msg := strings.ToLower(err.Error())
		return strings.Contains(msg, "connect") || strings.Contains(msg, "timed out") || strings.Contains(msg, "ssl")
	}
	return true
}

// inactive returns the staged zones NSD has not accepted from this
// process (addzone mode).
func (b *Backend) inactive(files []staged) []zone.Name {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []zone.Name
	for _, s := range files {
		if !b.zones[s.Z.Name].active {
			out = append(out, s.Z.Name)
		}
	}
	return out
}

// setActive marks names (but those in except) as accepted by NSD or not.
func (b *Backend) setActive(names []zone.Name, except map[zone.Name]error, v bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range names {
		if e, ok := b.zones[n]; ok && except[n] == nil {
			e.active = v
			b.zones[n] = e
		}
	}
}

// settleFrom lets Verify wait up to VerifyTimeout from t for NSD to load.
func (b *Backend) settleFrom(t time.Time) {
	b.mu.Lock()
	b.settle = t.Add(b.opt.VerifyTimeout)
	b.mu.Unlock()
}

func (b *Backend) isDirty() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.dirty
}

func (b *Backend) setDirty(v bool) {
	b.mu.Lock()
	b.dirty = v
	b.mu.Unlock()
}

// Delete removes the zones from NSD (delzones, or the include and one
// reconfig), then their files (also files dadns finds there without
// having written them: the zone is deleted).
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
	if err := b.unconfigure(ctx, valid); err != nil {
		return err
	}
	if err := b.removeFiles(valid); err != nil {
		return err
	}
	return errors.Join(fails...)
}

// unconfigure removes the zones from NSD's configuration.
func (b *Backend) unconfigure(ctx context.Context, names []zone.Name) error {
	if b.opt.Mode == ModeAddZone {
		held := b.heldNames(names)
		if len(held) == 0 {
			return nil
		}
		bad, err := b.ctl.list(ctx, "delzones", held, "")
		if err == nil && len(bad) > 0 {
			err = errors.Join(mapErrors(bad)...)
		}
		if err != nil {
			return fmt.Errorf("nsd: delete: %w", err)
		}
		b.forget(held)
		return b.writeInclude()
	}
	if len(b.forget(names)) > 0 {
		if err := b.writeInclude(); err != nil {
			return err
		}
	}
	if b.isDirty() {
		if err := b.ctl.run(ctx, "reconfig"); err != nil {
			return fmt.Errorf("nsd: activate delete: %w", err)
		}
		b.setDirty(false)
	}
	return nil
}

func mapErrors(m map[zone.Name]error) []error {
	out := make([]error, 0, len(m))
	for n, e := range m {
		out = append(out, &backend.ZoneError{Zone: n, Err: e})
	}
	return out
}

// heldNames returns the names dadns holds.
func (b *Backend) heldNames(names []zone.Name) []zone.Name {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []zone.Name
	for _, n := range names {
		if _, ok := b.zones[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// forget removes names from the zone set and returns those that were there.
func (b *Backend) forget(names []zone.Name) []zone.Name {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []zone.Name
	for _, name := range names {
		if _, ok := b.zones[name]; ok {
			delete(b.zones, name)
			out = append(out, name)
		}
	}
	return out
}
