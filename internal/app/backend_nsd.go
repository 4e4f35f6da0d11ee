package app

import (
	"context"
	"log/slog"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/nsd"
	"github.com/dadns/dadns/internal/config"
)

// newNSD builds an nsd backend instance from its configuration.
func newNSD(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	c := bc.NSD
	return nsd.New(nsd.Options{
		ZonesDir:    c.ZonesDir,
		IncludeFile: c.NSDConf,
		Control:     nsd.Control{Path: c.NSDControl, Conf: c.NSDControlConf, Socket: c.NSDControlSocket, Exec: c.NSDControlExec},
		Pattern:     c.Pattern,
		Mode:        c.Mode,
		VerifyAddr:  c.VerifyAddress,
		Transfer:    c.VerifyTransfer,
		CheckZone:   c.NSDCheckzone,
		FileMode:    c.FileMode,
		DirMode:     c.DirMode,
		Logger:      log,
	})
}
