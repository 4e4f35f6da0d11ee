// Package zonefile writes and reads the zone files of the backends that
// feed a DNS daemon from a directory (bind, nsd): one file per zone, named
// from its validated name, written to a fsynced temporary file and renamed
// into place, with a header line naming the zone, serial and hash so that
// drift can be told from dadns's own files.
package zonefile

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

	"golang.org/x/sys/unix"

	"github.com/dadns/dadns/internal/atomicfile"
	"github.com/dadns/dadns/internal/zone"
)

// HeaderPrefix starts the first line of every zone file dadns writes: the
// zone, serial and canonical hash, so drift can be told from dadns's files.
const HeaderPrefix = "; dadns zone "

// Text is the zone file: the header line, then the canonical text
// (absolute names, one TTL per RRset, no data outside the zone), which
// named and NSD load as it is.
func Text(z *zone.Zone) []byte {
	return []byte(fmt.Sprintf("%s%s serial %d hash %s\n%s", HeaderPrefix, z.Name, z.Serial, z.Hash(), z.Text()))
}

// Header reads the header of a zone file; ok is false for a file dadns
// did not write.
func Header(path string) (name zone.Name, serial uint32, hash string, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, "", false
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 512).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, HeaderPrefix) {
		return "", 0, "", false
	}
	f2 := strings.Fields(strings.TrimPrefix(line, HeaderPrefix))
	if len(f2) != 5 || f2[1] != "serial" || f2[3] != "hash" {
		return "", 0, "", false
	}
	s, err := strconv.ParseUint(f2[2], 10, 32)
	if err != nil {
		return "", 0, "", false
	}
	return zone.Name(f2[0]), uint32(s), f2[4], true
}

// Dir is a backend's zones directory.
type Dir struct {
	Path     string
	FileMode os.FileMode
	// File names a zone's file; an error keeps a name from reaching disk.
	File func(zone.Name) (string, error)
	// Label starts error messages ("bind", "nsd").
	Label string
}

// Staged is a zone written to a temporary file beside its final name.
type Staged struct {
	Z     *zone.Zone
	Tmp   string
	Final string
}

// writers bounds concurrent file writes: fsyncs of many small files
// overlap, and the file system commits them together.
const writers = 32

// SyncEachBelow: a batch of fewer files than this fsyncs each temporary
// file; a larger one writes them all and then makes them durable together
// with one syncfs(2) of the directory's file system, before any is
// renamed into place. Either way a file is durable before its rename.
// One fsync per file costs a system call and a journal wait each (about
// a third of the write time of a 2,500-zone batch here); one syncfs
// costs one journal commit for the batch.
const SyncEachBelow = 16

// Stage writes every zone to a temporary file in the directory and makes
// the files durable (see SyncEachBelow).
func (d Dir) Stage(ctx context.Context, zones []*zone.Zone) ([]Staged, error) {
	out := make([]Staged, len(zones))
	errs := make([]error, len(zones))
	each := len(zones) < SyncEachBelow
	Parallel(ctx, len(zones), func(i int) { out[i], errs[i] = d.stageOne(zones[i], each) })
	err := errors.Join(append(errs, ctx.Err())...)
	if err == nil && !each {
		err = SyncFS(d.Path)
	}
	if err != nil {
		Discard(out)
		return nil, fmt.Errorf("%s: write zone files: %w", d.Label, err)
	}
	return out, nil
}

// Parallel runs f(0) … f(n-1) on up to writers goroutines; it stops
// handing out indexes once ctx ends.
func Parallel(ctx context.Context, n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(writers, n) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// SyncFS makes everything written to the file system holding dir durable
// (syncfs(2)): the files of a batch written without an fsync each.
func SyncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

func (d Dir) stageOne(z *zone.Zone, sync bool) (Staged, error) {
	final, err := d.File(z.Name)
	if err != nil {
		return Staged{}, err
	}
	f, err := os.CreateTemp(d.Path, "."+string(z.Name)+".tmp-*")
	if err != nil {
		return Staged{}, err
	}
	s := Staged{Z: z, Tmp: f.Name(), Final: final}
	err = WriteFile(f, Text(z), d.FileMode, sync)
	if err == nil {
		// named and NSD reload a zone only when its file is newer than
		// the last load; the kernel's coarse file clock can lag theirs,
		// so stamp the file with the precise time.
		now := time.Now()
		err = os.Chtimes(s.Tmp, now, now)
	}
	if err != nil {
		_ = os.Remove(s.Tmp)
		return Staged{}, err
	}
	return s, nil
}

// WriteSync sets f's mode, writes data, fsyncs and closes f.
func WriteSync(f *os.File, data []byte, mode os.FileMode) error {
	return WriteFile(f, data, mode, true)
}

// WriteFile sets f's mode, writes data, fsyncs f when sync is set, and
// closes f.
func WriteFile(f *os.File, data []byte, mode os.FileMode, sync bool) error {
	err := f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Commit renames staged files over their final names, then makes the
// renames durable with one directory fsync.
func (d Dir) Commit(files []Staged) error {
	var errs []error
	for _, s := range files {
		if err := os.Rename(s.Tmp, s.Final); err != nil {
			errs = append(errs, err)
			_ = os.Remove(s.Tmp)
		}
	}
	if err := atomicfile.SyncDir(d.Path); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: install zone files: %w", d.Label, err)
	}
	return nil
}

// Discard removes staged temporary files.
func Discard(files []Staged) {
	for _, s := range files {
		if s.Tmp != "" {
			_ = os.Remove(s.Tmp)
		}
	}
}

// Remove deletes the file of each name, whoever wrote it: the zone is
// deleted.
func (d Dir) Remove(names []zone.Name) error {
	var errs []error
	for _, n := range names {
		p, err := d.File(n)
		if err != nil {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := atomicfile.SyncDir(d.Path); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: remove zone files: %w", d.Label, err)
	}
	return nil
}

// List lists the zone names of the *.db files in the directory.
func (d Dir) List() ([]zone.Name, error) {
	des, err := os.ReadDir(d.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: list zones dir: %w", d.Label, err)
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

// Read parses a zone file back into a zone.
func Read(name zone.Name, path string) (*zone.Zone, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return zone.Parse(name, data, zone.Limits{MaxRecords: 1 << 30})
}
