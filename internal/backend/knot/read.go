package knot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Zone returns what knotd serves for name: read back by zone transfer when
// knotd allows it, else the zone file knotd loads (Verify then checks the
// served serial).
func (b *Backend) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	e, ok := b.entry(name)
	if !ok {
		return nil, fmt.Errorf("knot: zone %s: %w", name, backend.ErrNotFound)
	}
	if b.opt.Transfer {
		if e.serial != 0 {
			// knotd loads new zones in the background after conf-commit:
			// give the last activation its time before reading what it
			// serves.
			_ = b.waitSerial(ctx, name, e.serial)
		}
		return b.transferSettled(ctx, name)
	}
	p, err := b.zoneFile(name)
	if err != nil {
		return nil, err
	}
	z, err := readZone(name, p)
	if err != nil {
		return nil, fmt.Errorf("knot: read zone %s: %w", name, err)
	}
	return z, nil
}

func (b *Backend) entry(name zone.Name) (entry, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	e, ok := b.zones[name]
	return e, ok
}

// Zones lists the zones whose files dadns wrote. It also looks for drift
// and reports it (see Drift); it changes nothing.
func (b *Backend) Zones(ctx context.Context) ([]zone.Name, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	out := make([]zone.Name, 0, len(b.zones))
	for n := range b.zones {
		out = append(out, n)
	}
	b.mu.RUnlock()
	slices.Sort(out)
	b.reportDrift(b.drift())
	return out, nil
}

// Drift is what dadns finds in zones_dir that it did not write.
type Drift struct {
	Stray    []zone.Name // *.zone files dadns did not write
	Missing  []zone.Name // zones dadns wrote whose file is gone
	Modified []zone.Name // files changed since dadns wrote them
}

func (d Drift) empty() bool { return len(d.Stray)+len(d.Missing)+len(d.Modified) == 0 }

// Drift compares zones_dir with what dadns wrote and returns what it
// found. It changes nothing: a stray file is removed only when its zone is
// deleted through dadns.
func (b *Backend) Drift() Drift { return b.drift() }

func (b *Backend) drift() Drift {
	var d Drift
	b.mu.RLock()
	zones := make(map[zone.Name]bool, len(b.zones))
	for n := range b.zones {
		zones[n] = true
	}
	b.mu.RUnlock()
	files, err := b.zoneFiles()
	if err != nil {
		b.log.Warn("knot: drift check", "err", err)
		return d
	}
	onDisk := map[zone.Name]bool{}
	for _, n := range files {
		onDisk[n] = true
		p, err := b.zoneFile(n)
		if err != nil {
			d.Stray = append(d.Stray, n)
			continue
		}
		data, err := os.ReadFile(p)
		switch {
		case err != nil:
			d.Missing = append(d.Missing, n)
		case !zones[n]:
			d.Stray = append(d.Stray, n)
		case !intact(n, data):
			d.Modified = append(d.Modified, n)
		}
	}
	for n := range zones {
		if !onDisk[n] {
			d.Missing = append(d.Missing, n)
		}
	}
	slices.Sort(d.Stray)
	slices.Sort(d.Missing)
	slices.Sort(d.Modified)
	return d
}

// intact reports whether data is a zone file dadns wrote for n, unchanged:
// its body still has the canonical hash its header records (the body is
// the canonical text itself unless knotForm rewrote records, and then it
// is parsed back).
func intact(n zone.Name, data []byte) bool {
	first, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return false
	}
	f := strings.Fields(strings.TrimPrefix(string(first), headerPrefix))
	if !bytes.HasPrefix(first, []byte(headerPrefix)) || len(f) != 5 || f[0] != string(n) {
		return false
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) == f[4] {
		return true
	}
	z, err := zone.Parse(n, fromKnotForm(body), zone.Limits{MaxRecords: 1 << 30})
	return err == nil && z.Hash() == f[4]
}

// reportDrift logs drift when it differs from the last report.
func (b *Backend) reportDrift(d Drift) {
	sig := fmt.Sprint(d)
	b.mu.Lock()
	same := sig == b.lastDrift
	b.lastDrift = sig
	b.mu.Unlock()
	if same || d.empty() {
		return
	}
	b.log.Warn("knot: zone files dadns did not write", "stray_files", names(d.Stray),
		"missing_files", names(d.Missing), "modified_files", names(d.Modified))
}

func names(ns []zone.Name) string {
	const show = 10
	s := make([]string, 0, min(len(ns), show))
	for i, n := range ns {
		if i == show {
			return strings.Join(s, ",") + fmt.Sprintf(" and %d more", len(ns)-show)
		}
		s = append(s, string(n))
	}
	return strings.Join(s, ",")
}

// transferSettled transfers the zone; while knotd may still be loading
// zones of the last activation, a refused transfer is tried again until
// the activation's deadline.
func (b *Backend) transferSettled(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	pause := 10 * time.Millisecond
	for {
		z, err := b.transfer(ctx, name)
		if err == nil || ctx.Err() != nil || time.Now().Add(pause).After(deadline) {
			return z, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}
