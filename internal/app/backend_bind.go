package app

import (
	"context"
	"log/slog"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/bind"
	"github.com/dadns/dadns/internal/config"
)

// newBind builds a bind backend instance from its configuration.
func newBind(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	c := bc.Bind
	return bind.New(bind.Options{
		ZonesDir:    c.ZonesDir,
		IncludeFile: c.NamedConf,
		Rndc: bind.Rndc{
			Path: c.RndcPath, Conf: c.RndcConf, Key: c.RndcKey, Server: c.RndcServer, Port: c.RndcPort, Exec: c.RndcExec,
		},
		VerifyAddr: c.VerifyAddress,
		Transfer:   c.VerifyTransfer,
		CheckConf:  c.NamedCheckconf,
		CheckZone:  c.NamedCheckzone,
		FileMode:   c.FileMode,
		DirMode:    c.DirMode,
		CheckNames: c.CheckNames,
		Logger:     log,
		// Limits named may have (BIND 9.18.28+) that the other backends do not.
		MaxRecordsPerType: c.MaxRecordsPerType,
		MaxTypesPerName:   c.MaxTypesPerName,
	})
}
