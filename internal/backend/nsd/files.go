package nsd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/atomicfile"
	"github.com/dadns/dadns/internal/zone"
)

// headerPrefix starts the first line of every zone file dadns writes: the
// zone, serial and canonical hash, so drift can be told from dadns's files.
const headerPrefix = "; dadns zone "

// fileText is the zone file: the header line, then the canonical text
// (absolute names, a TTL on every record, one TTL per RRset, no data
// outside the zone), which NSD loads as it is.
func fileText(z *zone.Zone) []byte {
	return []byte(fmt.Sprintf("%s%s serial %d hash %s\n%s", headerPrefix, z.Name, z.Serial, z.Hash(), z.Text()))
}

// header reads the header of a zone file; ok is false for a file dadns
// did not write.
func header(path string) (name zone.Name, serial uint32, hash string, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, "", false
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 512).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, headerPrefix) {
		return "", 0, "", false
	}
	w := strings.Fields(strings.TrimPrefix(line, headerPrefix))
	if len(w) != 5 || w[1] != "serial" || w[3] != "hash" {
		return "", 0, "", false
	}
	s, err := strconv.ParseUint(w[2], 10, 32)
	if err != nil {
		return "", 0, "", false
	}
	return zone.Name(w[0]), uint32(s), w[4], true
}

// staged is a zone written to a temporary file beside its final name.
type staged struct {
	z     *zone.Zone
	tmp   string
	final string
}

// writers bounds concurrent file writes: fsyncs of many small files
// overlap, and the file system commits them together.
const writers = 32

// stage writes every zone to a fsynced temporary file in zones_dir.
func (b *Backend) stage(ctx context.Context, zones []*zone.Zone) ([]staged, error) {
	out := make([]staged, len(zones))
	errs := make([]error, len(zones))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(writers, len(zones)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = b.stageOne(zones[i])
			}
		})
	}
	for i := range zones {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		discard(out)
		return nil, fmt.Errorf("nsd: write zone files: %w", err)
	}
	return out, nil
}

func (b *Backend) stageOne(z *zone.Zone) (staged, error) {
	final, err := b.zoneFile(z.Name)
	if err != nil {
		return staged{}, err
	}
	f, err := os.CreateTemp(b.opt.ZonesDir, "."+string(z.Name)+".tmp-*")
	if err != nil {
		return staged{}, err
	}
	s := staged{z: z, tmp: f.Name(), final: final}
	err = writeSync(f, fileText(z), b.opt.FileMode)
	if err == nil {
		// NSD reloads a zone only when its file's mtime changed; stamp
		// the precise time, the kernel's file clock is coarser.
		now := time.Now()
		err = os.Chtimes(s.tmp, now, now)
	}
	if err != nil {
		_ = os.Remove(s.tmp)
		return staged{}, err
	}
	return s, nil
}

func writeSync(f *os.File, data []byte, mode os.FileMode) error {
	err := f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
		return fmt.Errorf("nsd: install zone files: %w", err)
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

// removeFiles deletes <zones_dir>/<name>.db of each name, whoever wrote
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
		return fmt.Errorf("nsd: remove zone files: %w", err)
	}
	return nil
}

// zoneFiles lists the zone names of the *.db files in zones_dir.
func (b *Backend) zoneFiles() ([]zone.Name, error) {
	des, err := os.ReadDir(b.opt.ZonesDir)
	if err != nil {
		return nil, fmt.Errorf("nsd: list zones dir: %w", err)
	}
	var out []zone.Name
	for _, de := range des {
		base, ok := strings.CutSuffix(de.Name(), ".db")
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
	return zone.Parse(name, data, zone.Limits{MaxRecords: 1 << 30})
}
