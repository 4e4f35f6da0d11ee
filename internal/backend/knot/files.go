package knot

import (
	"context"
	"errors"
	"fmt"
	"github.com/dadns/dadns/internal/backend/zonefile"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/atomicfile"
	"github.com/dadns/dadns/internal/zone"
)

// headerPrefix starts the first line of every zone file dadns writes: the
// zone, serial and canonical hash, so drift can be told from dadns's files.
const headerPrefix = zonefile.HeaderPrefix

// fileText is the zone file: the header line (zone, serial and the
// canonical hash), then the zone in the form knotd loads (see knotForm):
// absolute names, a TTL on every record.
func fileText(z *zone.Zone) ([]byte, error) {
	body, err := knotForm(z)
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf("%s%s serial %d hash %s\n%s", headerPrefix, z.Name, z.Serial, z.Hash(), body)), nil
}

// staged is a zone written to a temporary file beside its final name.
type staged struct {
	z     *zone.Zone
	tmp   string
	final string
}

// stage writes every zone to a temporary file in zones_dir and makes the
// files durable: an fsync each in a small batch, one syncfs for a large
// one (see zonefile.SyncEachBelow).
func (b *Backend) stage(ctx context.Context, zones []*zone.Zone) ([]staged, error) {
	out := make([]staged, len(zones))
	errs := make([]error, len(zones))
	each := len(zones) < zonefile.SyncEachBelow
	zonefile.Parallel(ctx, len(zones), func(i int) { out[i], errs[i] = b.stageOne(zones[i], each) })
	err := errors.Join(append(errs, ctx.Err())...)
	if err == nil && !each {
		err = zonefile.SyncFS(b.opt.ZonesDir)
	}
	if err != nil {
		discard(out)
		return nil, fmt.Errorf("knot: write zone files: %w", err)
	}
	return out, nil
}

func (b *Backend) stageOne(z *zone.Zone, sync bool) (staged, error) {
	final, err := b.zoneFile(z.Name)
	if err != nil {
		return staged{}, err
	}
	f, err := os.CreateTemp(b.opt.ZonesDir, "."+string(z.Name)+".tmp-*")
	if err != nil {
		return staged{}, err
	}
	s := staged{z: z, tmp: f.Name(), final: final}
	text, err := fileText(z)
	if err == nil {
		err = zonefile.WriteFile(f, text, b.opt.FileMode, sync)
	} else {
		_ = f.Close()
	}
	if err == nil {
		// knotd skips a zone-reload when the file's modification time is
		// the one it loaded; the kernel's coarse file clock can repeat a
		// time within a second, so stamp the file with the precise time.
		now := time.Now()
		err = os.Chtimes(s.tmp, now, now)
	}
	if err != nil {
		_ = os.Remove(s.tmp)
		return staged{}, err
	}
	return s, nil
}

// commit renames staged files over their final names, then makes the
// renames durable with one directory fsync.
func (b *Backend) commit(files []staged) error {
	var errs []error
	for _, s := range files {
		if err := os.Rename(s.tmp, s.final); err != nil {
			errs = append(errs, err)
			_ = os.Remove(s.tmp)
		}
	}
	if err := atomicfile.SyncDir(b.opt.ZonesDir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("knot: install zone files: %w", err)
	}
	return nil
}

// discard removes staged temporary files.
func discard(files []staged) {
	for _, s := range files {
		if s.tmp != "" {
			_ = os.Remove(s.tmp)
		}
	}
}

// removeFiles deletes <zones_dir>/<name>.zone of each name, whoever wrote
// it: the zone is deleted.
func (b *Backend) removeFiles(names []zone.Name) error {
	var errs []error
	for _, n := range names {
		p, err := b.zoneFile(n)
		if err != nil {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := atomicfile.SyncDir(b.opt.ZonesDir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("knot: remove zone files: %w", err)
	}
	return nil
}

// zoneFiles lists the zone names of the *.zone files in zones_dir.
func (b *Backend) zoneFiles() ([]zone.Name, error) {
	des, err := os.ReadDir(b.opt.ZonesDir)
	if err != nil {
		return nil, fmt.Errorf("knot: list zones dir: %w", err)
	}
	var out []zone.Name
	for _, de := range des {
		base, ok := strings.CutSuffix(de.Name(), ".zone")
		if ok && de.Type().IsRegular() && !strings.HasPrefix(base, ".") {
			out = append(out, zone.Name(base))
		}
	}
	return out, nil
}

// readZone parses a zone file back into a zone.
func readZone(name zone.Name, path string) (*zone.Zone, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return zone.Parse(name, fromKnotForm(data), zone.Limits{MaxRecords: 1 << 30})
}
