package nsd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Zone returns what NSD serves for name: read back by zone transfer when
// NSD allows it, else the zone file NSD loads (Verify then checks the
// served serial).
func (b *Backend) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	e, ok := b.entry(name)
	if !ok {
		return nil, fmt.Errorf("nsd: zone %s: %w", name, backend.ErrNotFound)
	}
	if b.opt.Transfer {
		if e.serial != 0 {
			// NSD loads in the background: give the last activation its
			// time before reading what NSD serves.
			_ = b.waitSerial(ctx, name, e.serial)
		}
		return b.transfer(ctx, name)
	}
	z, err := readZone(name, e.file)
	if err != nil {
		return nil, fmt.Errorf("nsd: read zone %s: %w", name, err)
	}
	return z, nil
}

func (b *Backend) entry(name zone.Name) (entry, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	e, ok := b.zones[name]
	return e, ok
}

// Zones lists the zones dadns holds in NSD. It also looks for drift and
// logs it (see Drift); it changes nothing.
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
	if b.op.TryLock() { // skip the look while a batch is halfway through
		d := b.drift()
		b.op.Unlock()
		b.reportDrift(d)
	}
	return out, nil
}

// Drift is what dadns finds around NSD that it did not write.
type Drift struct {
	Foreign  []string    // include lines that are not dadns's entries
	Stray    []zone.Name // zone files without an entry
	Missing  []zone.Name // entries whose file is gone
	Modified []zone.Name // files changed since dadns wrote them
}

func (d Drift) empty() bool {
	return len(d.Foreign)+len(d.Stray)+len(d.Missing)+len(d.Modified) == 0
}

// Drift compares the file dadns owns and zones_dir with what dadns wrote
// and returns what it found. It only reads: a stray file is removed when
// its zone is deleted through dadns.
func (b *Backend) Drift() Drift { return b.drift() }

func (b *Backend) drift() Drift {
	var d Drift
	b.mu.RLock()
	d.Foreign = slices.Clone(b.foreign)
	zones := make(map[zone.Name]entry, len(b.zones))
	for n, e := range b.zones {
		zones[n] = e
	}
	b.mu.RUnlock()
	files, err := b.zoneFiles()
	if err != nil {
		b.log.Warn("nsd: drift check", "err", err)
		return d
	}
	for _, n := range files {
		if _, ok := zones[n]; !ok {
			d.Stray = append(d.Stray, n)
		}
	}
	for n, e := range zones {
		b.checkFile(n, e, &d)
	}
	slices.Sort(d.Stray)
	slices.Sort(d.Missing)
	slices.Sort(d.Modified)
	return d
}

// checkFile reports an entry whose file is missing or was edited.
func (b *Backend) checkFile(n zone.Name, e entry, d *Drift) {
	if !strings.HasPrefix(e.file, b.opt.ZonesDir+"/") {
		return // not a file dadns writes; NSD reports its own problems
	}
	data, err := os.ReadFile(e.file)
	if err != nil {
		d.Missing = append(d.Missing, n)
		return
	}
	if !intact(n, data) {
		d.Modified = append(d.Modified, n)
	}
}

// intact reports whether data is a zone file dadns wrote for n, unchanged:
// its body still has the hash its header records.
func intact(n zone.Name, data []byte) bool {
	first, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok || !bytes.HasPrefix(first, []byte(headerPrefix)) {
		return false
	}
	f := strings.Fields(strings.TrimPrefix(string(first), headerPrefix))
	if len(f) != 5 || f[0] != string(n) {
		return false
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]) == f[4]
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
	b.log.Warn("nsd: files dadns did not write", "foreign_include_lines", len(d.Foreign),
		"stray_files", names(d.Stray), "missing_files", names(d.Missing), "modified_files", names(d.Modified))
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
