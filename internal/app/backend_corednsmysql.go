package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/corednsmysql"
	"github.com/dadns/dadns/internal/config"
)

// newCoreDNSMySQL builds a coredns_mysql backend instance. It does not
// connect: an unreachable database delays only this instance's zones.
func newCoreDNSMySQL(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	c := bc.CoreDNSMySQL
	b, err := corednsmysql.New(corednsmysql.Options{
		Host: c.Host, Port: c.Port, Database: c.Database, Username: c.Username, Password: c.Password,
		ZonesTable: c.ZonesTable, RecordsTable: c.RecordsTable,
		TLS: c.TLS, TLSCA: c.TLSCA, TLSSkipVerify: c.TLSSkipVerify,
		PoolSize: c.PoolSize, Timeout: time.Duration(c.TimeoutSecs) * time.Second,
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("coredns_mysql backend configured", "host", c.Host, "port", c.Port, "database", c.Database,
		"zones_table", c.ZonesTable, "records_table", c.RecordsTable, "tls", c.TLS)
	return b, nil
}

// coredns_mysql keeps its rows' digests only once it can read the stored
// zones back (desired.go).
var _ desiredSetter = (*corednsmysql.Backend)(nil)
