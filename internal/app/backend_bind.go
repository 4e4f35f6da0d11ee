package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/config"
)

// newBind builds a bind backend instance. (Being written: issue 4.)
func newBind(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	return nil, errors.New("backend type bind is not available in this version")
}
