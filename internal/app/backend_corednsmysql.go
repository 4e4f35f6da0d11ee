package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/config"
)

// newCoreDNSMySQL builds a coredns_mysql backend instance. (Being written: issue 5.)
func newCoreDNSMySQL(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	return nil, errors.New("backend type coredns_mysql is not available in this version")
}
