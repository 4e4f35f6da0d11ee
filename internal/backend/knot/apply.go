package knot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/atomicfile"
	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Apply writes the zones' files and makes knotd serve them. Zones new to
// dadns are checked with knotd's own loader before their file is
// installed (knotd loads a newly configured zone in the background and
// reports nothing); zones dadns wrote before are checked by knotd's
// blocking reload itself, their previous file kept to fall back on. The
// zones knotd's configuration lacks are added in one configuration
// transaction, the others reloaded with one blocking zone-reload. A zone
// knotd refuses fails alone, permanently and with knotd's reason, and
// keeps the version knotd served; a knotc failure fails the zones it was
// for.
func (b *Backend) Apply(ctx context.Context, zones []*zone.Zone) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.op.Lock()
	defer b.op.Unlock()
	zones, fails := validZones(zones)
	zones = readable(zones, &fails)
	if len(zones) == 0 {
		return errors.Join(fails...)
	}
	// Which zones knotd has is known from a recent batch, or asked while
	// the files are written and checked: two knotc runs overlap instead
	// of following each other.
	type confRead struct {
		have map[zone.Name]bool
		err  error
		read bool // asked knotd now
	}
	conf := make(chan confRead, 1)
	if have := b.recentConf(); have != nil {
		conf <- confRead{have: have}
	} else {
		go func() {
			have, err := b.knotc.configured(ctx)
			conf <- confRead{have, err, true}
		}()
	}
	files, err := b.stage(ctx, zones)
	if err != nil {
		<-conf
		return err
	}
	fresh, known := b.split(files)
	bad, err := b.check(ctx, unchecked(fresh))
	if err != nil {
		<-conf
		discard(files)
		return err
	}
	files = append(dropBad(fresh, bad, &fails), known...)
	prev := b.keepPrevious(known)
	defer removeAll(prev)
	if err := b.commit(files); err != nil {
		<-conf
		return err
	}
	old := b.record(files)
	names := make([]zone.Name, len(files))
	byName := make(map[zone.Name]staged, len(files))
	for i, s := range files {
		names[i] = s.z.Name
		byName[s.z.Name] = s
	}
	c := <-conf
	if c.read && c.err == nil {
		b.noteConf(c.have)
	}
	refused, errs := b.activate(ctx, names, c.have, c.err)
	refused, errs = b.healForgotten(ctx, refused, errs)
	fails = append(fails, errs...)
	for n, why := range refused {
		fails = append(fails, &backend.ZoneError{Zone: n, Err: b.fallBack(ctx, byName[n], old[n], prev[n], why)})
	}
	err = errors.Join(fails...)
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	b.poll.ExpectApplied(zones, err, deadline)
	return err
}

// plainZone is plain; tests replace it to let a zone knotd refuses
// reach knotd unchecked.
var plainZone = plain

// unchecked returns the new zones knotd's loader must check before knotd
// sees them: those not plain (see plain). A plain zone knotd refuses
// anyway is explained by Verify (see explain).
func unchecked(fresh []staged) []staged {
	var out []staged
	for _, s := range fresh {
		if !plainZone(s.z) {
			out = append(out, s)
		}
	}
	return out
}

// split sorts staged files into zones dadns never wrote and zones it did.
func (b *Backend) split(files []staged) (fresh, known []staged) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, s := range files {
		if _, ok := b.zones[s.z.Name]; ok {
			known = append(known, s)
		} else {
			fresh = append(fresh, s)
		}
	}
	return fresh, known
}

// keepPrevious hard-links the current file of each zone to
// .<zone>.zone.prev, to fall back on when knotd refuses the new one.
func (b *Backend) keepPrevious(files []staged) map[zone.Name]string {
	prev := map[zone.Name]string{}
	for _, s := range files {
		p := filepath.Join(b.opt.ZonesDir, "."+string(s.z.Name)+".zone.prev")
		_ = os.Remove(p)
		if err := os.Link(s.final, p); err == nil {
			prev[s.z.Name] = p
		}
	}
	return prev
}

func removeAll(paths map[zone.Name]string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}

// fallBack handles a zone knotd refused to reload: knotd still serves the
// previous version, so the previous file goes back in place, and the
// refused text is checked with knotd's loader for the reason. The error
// is permanent when the check refuses the text too.
func (b *Backend) fallBack(ctx context.Context, s staged, old entry, prev, why string) error {
	reloadErr := fmt.Errorf("knot: knotd did not reload zone %s: %s (see knotd's log)", s.z.Name, why)
	if prev == "" {
		return reloadErr
	}
	refused := staged{z: s.z, final: s.final, tmp: filepath.Join(b.opt.ZonesDir, "."+string(s.z.Name)+".zone.refused")}
	if err := os.Rename(s.final, refused.tmp); err != nil {
		return fmt.Errorf("%w (and the previous file could not be restored: %v)", reloadErr, err)
	}
	defer os.Remove(refused.tmp)
	if err := os.Rename(prev, s.final); err != nil {
		_ = os.Rename(refused.tmp, s.final)
		return fmt.Errorf("%w (and the previous file could not be restored: %v)", reloadErr, err)
	}
	_ = atomicfile.SyncDir(b.opt.ZonesDir)
	b.mu.Lock()
	b.zones[s.z.Name] = old
	b.mu.Unlock()
	bad, err := b.check(ctx, []staged{refused})
	if err == nil && bad[s.z.Name] != nil {
		return bad[s.z.Name]
	}
	return reloadErr
}

// validZones drops zones whose names must never reach a file or knotc,
// and keeps the last of duplicate names.
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

// readable drops the zones that cannot be written in a form knotd reads
// (see knotForm), with why.
func readable(zones []*zone.Zone, fails *[]error) []*zone.Zone {
	out := zones[:0]
	for _, z := range zones {
		if _, err := knotForm(z); err != nil {
			*fails = append(*fails, &backend.ZoneError{Zone: z.Name, Err: err})
			continue
		}
		out = append(out, z)
	}
	return out
}

// dropBad removes the refused zones' temporary files and records why.
func dropBad(files []staged, bad map[zone.Name]error, fails *[]error) []staged {
	if len(bad) == 0 {
		return files
	}
	kept := files[:0]
	for _, s := range files {
		if err, ok := bad[s.z.Name]; ok {
			discard([]staged{s})
			*fails = append(*fails, &backend.ZoneError{Zone: s.z.Name, Err: err})
			continue
		}
		kept = append(kept, s)
	}
	return kept
}

// record enters the installed files in the zone set and returns the
// entries they replaced.
func (b *Backend) record(files []staged) map[zone.Name]entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := map[zone.Name]entry{}
	for _, s := range files {
		if e, ok := b.zones[s.z.Name]; ok {
			old[s.z.Name] = e
		}
		b.zones[s.z.Name] = entry{serial: s.z.Serial, hash: s.z.Hash()}
	}
	return old
}

// activate makes knotd serve the batch's files, given the zones knotd's
// running configuration has (or why they could not be read): every zone
// dadns holds that it lacks (the batch's new zones, and
// zones a restart of knotd from a text configuration forgot) is added in
// one configuration transaction, which loads them; the batch's zones knotd
// already had are reloaded with one blocking zone-reload. It returns
// knotd's reason for each zone it did not reload, and otherwise one batch
// error.
func (b *Backend) activate(ctx context.Context, names []zone.Name, have map[zone.Name]bool, err error) (map[zone.Name]string, []error) {
	if len(names) == 0 {
		return nil, nil
	}
	if err != nil {
		b.forgetConf()
		return nil, []error{fmt.Errorf("knot: activate: %w", err)}
	}
	var reload []zone.Name
	for _, n := range names {
		if have[n] {
			reload = append(reload, n)
		}
	}
	if err := b.addZones(ctx, b.missing(have)); err != nil {
		b.forgetConf()
		return nil, []error{fmt.Errorf("knot: activate: %w", err)}
	}
	refused, err := b.reload(ctx, reload)
	b.mu.Lock()
	b.settle = time.Now().Add(b.opt.VerifyTimeout)
	b.mu.Unlock()
	if err != nil {
		b.forgetConf()
		return nil, []error{err}
	}
	return refused, nil
}

// confFresh is how long the zone list read from knotd (and kept up to
// date with dadns's own transactions) is trusted: a burst of batches, or
// a single change, then costs one knotc run fewer.
const confFresh = 5 * time.Second

// recentConf returns the zones knotd has, when read recently enough.
func (b *Backend) recentConf() map[zone.Name]bool {
	if b.conf == nil || time.Since(b.confAt) > b.confFresh {
		return nil
	}
	return b.conf
}

// noteConf keeps a zone list just read from knotd.
func (b *Backend) noteConf(have map[zone.Name]bool) { b.conf, b.confAt = have, time.Now() }

func (b *Backend) forgetConf() { b.conf = nil }

// healForgotten handles zones knotd did not reload because it no longer
// has them (restarted from a text knot.conf while dadns trusted an older
// zone list): the list is read again and every zone knotd lacks is added,
// which loads the batch's files too.
func (b *Backend) healForgotten(ctx context.Context, refused map[zone.Name]string, errs []error) (map[zone.Name]string, []error) {
	var gone []zone.Name
	for n, why := range refused {
		if strings.Contains(why, "no such zone") {
			gone = append(gone, n)
		}
	}
	if len(gone) == 0 {
		return refused, errs
	}
	b.forgetConf()
	have, err := b.knotc.configured(ctx)
	if err == nil {
		b.noteConf(have)
		err = b.addZones(ctx, b.missing(have))
	}
	if err != nil {
		b.forgetConf()
		return refused, append(errs, fmt.Errorf("knot: activate: %w", err))
	}
	for _, n := range gone {
		delete(refused, n)
	}
	return refused, errs
}

// missing returns the zones dadns holds that are not in have, sorted.
func (b *Backend) missing(have map[zone.Name]bool) []zone.Name {
	b.mu.RLock()
	var add []zone.Name
	for n := range b.zones {
		if !have[n] {
			add = append(add, n)
		}
	}
	b.mu.RUnlock()
	slices.Sort(add)
	return add
}

// addZones adds zones to knotd's configuration in one transaction:
// "conf-set zone.domain" with every name, and, unless the zones use a
// default template whose storage is zones_dir, each zone's template or
// file through one knotc session.
func (b *Backend) addZones(ctx context.Context, add []zone.Name) error {
	if len(add) == 0 {
		return nil
	}
	per, err := b.perZoneItems(ctx)
	if err != nil {
		return err
	}
	var lines []string
	for _, n := range add {
		switch {
		case b.opt.Template != "":
			lines = append(lines, fmt.Sprintf("conf-set zone[%s].template %s", n, b.opt.Template))
		case per:
			p, _ := b.zoneFile(n)
			lines = append(lines, fmt.Sprintf("conf-set zone[%s].file %s", n, p))
		}
	}
	set := append([]string{"conf-set", "zone.domain"}, namesOf(add)...)
	if err := b.knotc.transaction(ctx, [][]string{set}, lines); err != nil {
		return err
	}
	if b.conf != nil {
		for _, n := range add {
			b.conf[n] = true
		}
	}
	return nil
}

// perZoneItems reports whether new zones need their file set one by one:
// when no template is configured and knotd's default template does not
// load <zones_dir>/<zone>.zone by itself. It asks knotd once.
func (b *Backend) perZoneItems(ctx context.Context) (bool, error) {
	if b.opt.Template != "" {
		return false, nil
	}
	b.mu.RLock()
	known := b.defaultOK
	b.mu.RUnlock()
	if known != 0 {
		return known < 0, nil
	}
	out, err := b.knotc.run(ctx, "conf-read", "template[default].storage", "template[default].file")
	if err != nil {
		return false, err
	}
	storage, file := confValue(out, "template[default].storage"), confValue(out, "template[default].file")
	ok := storage == b.opt.ZonesDir && (file == "" || file == "%s.zone")
	if !ok {
		b.log.Info("knot: the default template does not load zones_dir/<zone>.zone; each new zone gets its file set, which costs a knotc action per zone",
			"storage", storage, "file", file, "zones_dir", b.opt.ZonesDir)
	}
	b.mu.Lock()
	b.defaultOK = map[bool]int{true: 1, false: -1}[ok]
	b.mu.Unlock()
	return !ok, nil
}

// reload reloads zones knotd already serves from their new files and waits
// for the loads (knotc -b). It returns knotd's reason for each zone it did
// not reload, or an error when knotc failed without naming zones.
func (b *Backend) reload(ctx context.Context, reload []zone.Name) (map[zone.Name]string, error) {
	if len(reload) == 0 {
		return nil, nil
	}
	out, err := b.knotc.run(ctx, append([]string{"-b", "zone-reload"}, namesOf(reload)...)...)
	if err == nil {
		return nil, nil
	}
	per := zoneErrors(out)
	refused := map[zone.Name]string{}
	for _, n := range reload {
		if why, ok := per[n]; ok {
			refused[n] = why
		}
	}
	if len(refused) == 0 {
		return nil, fmt.Errorf("knot: activate: %w", err)
	}
	return refused, nil
}

// Delete removes the zones from knotd's configuration in one transaction,
// then removes their files (also files dadns finds there without having
// written them: the zone is deleted). Zones knotd holds that dadns never
// wrote and whose file is not in zones_dir are left alone.
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
	var ours []zone.Name
	for _, n := range valid {
		if b.owns(n) {
			ours = append(ours, n)
		}
	}
	if len(ours) > 0 {
		have, err := b.knotc.configured(ctx)
		if err != nil {
			b.forgetConf()
			return fmt.Errorf("knot: delete: %w", err)
		}
		b.noteConf(have)
		var unset []zone.Name
		for _, n := range ours {
			if have[n] {
				unset = append(unset, n)
			}
		}
		if len(unset) > 0 {
			if err := b.knotc.transaction(ctx, [][]string{append([]string{"conf-unset", "zone.domain"}, namesOf(unset)...)}, nil); err != nil {
				b.forgetConf()
				return fmt.Errorf("knot: delete: %w", err)
			}
			for _, n := range unset {
				delete(have, n)
			}
		}
	}
	b.forget(ours)
	if err := b.removeFiles(ours); err != nil {
		return err
	}
	return errors.Join(fails...)
}

// owns reports whether n is dadns's to delete: it wrote n's file, or a
// file for n sits in zones_dir.
func (b *Backend) owns(n zone.Name) bool {
	b.mu.RLock()
	_, ok := b.zones[n]
	b.mu.RUnlock()
	if ok {
		return true
	}
	p, err := b.zoneFile(n)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

func (b *Backend) forget(names []zone.Name) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range names {
		delete(b.zones, n)
	}
}

func namesOf(ns []zone.Name) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out
}
