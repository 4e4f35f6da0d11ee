package nsd

import (
	"context"

	"github.com/dadns/dadns/internal/backend/zonefile"
	"github.com/dadns/dadns/internal/zone"
)

// Zone files are written and read by internal/backend/zonefile, shared
// with the other file-fed backends.

const headerPrefix = zonefile.HeaderPrefix

type staged = zonefile.Staged

func fileText(z *zone.Zone) []byte { return zonefile.Text(z) }

func header(path string) (zone.Name, uint32, string, bool) { return zonefile.Header(path) }

func (b *Backend) zoneDir() zonefile.Dir {
	return zonefile.Dir{Path: b.opt.ZonesDir, FileMode: b.opt.FileMode, File: b.zoneFile, Label: "nsd"}
}

func (b *Backend) stage(ctx context.Context, zones []*zone.Zone) ([]staged, error) {
	return b.zoneDir().Stage(ctx, zones)
}

func (b *Backend) commit(files []staged) error { return b.zoneDir().Commit(files) }

func discard(files []staged) { zonefile.Discard(files) }

func (b *Backend) removeFiles(names []zone.Name) error { return b.zoneDir().Remove(names) }

func (b *Backend) zoneFiles() ([]zone.Name, error) { return b.zoneDir().List() }

func readZone(name zone.Name, path string) (*zone.Zone, error) { return zonefile.Read(name, path) }
