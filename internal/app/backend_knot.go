package app

import (
	"context"
	"log/slog"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/knot"
	"github.com/dadns/dadns/internal/config"
)

// newKnot builds a knot backend instance from its configuration.
func newKnot(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	c := bc.Knot
	return knot.New(knot.Options{
		ZonesDir:   c.ZonesDir,
		Knotc:      c.KnotcPath,
		Socket:     c.KnotSocket,
		Template:   c.Template,
		VerifyAddr: c.VerifyAddress,
		Transfer:   c.VerifyTransfer,
		FileMode:   c.FileMode,
		DirMode:    c.DirMode,
		Logger:     log,
	})
}
