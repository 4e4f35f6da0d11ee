package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/powerdns"
	"github.com/dadns/dadns/internal/config"
)

// newPowerDNS builds a powerdns backend instance (a database in PowerDNS's
// gmysql schema). It does not connect: an unreachable database delays
// only this instance's zones.
func newPowerDNS(ctx context.Context, bc config.Backend, log *slog.Logger) (backend.Backend, error) {
	c := bc.PowerDNS
	b, err := powerdns.New(powerdns.Options{
		Host: c.Host, Port: c.Port, Database: c.Database, Username: c.Username, Password: c.Password, DSN: c.DSN,
		TLS: c.TLS, TLSCA: c.TLSCA, TLSSkipVerify: c.TLSSkipVerify,
		Account: c.Account, VerifyAddress: c.VerifyAddress, VerifyTimeout: time.Duration(c.VerifySecs) * time.Second,
		PoolSize: c.PoolSize, Timeout: time.Duration(c.TimeoutSecs) * time.Second,
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("powerdns backend configured", "host", c.Host, "port", c.Port, "database", c.Database, "dsn", c.DSN != "",
		"account", c.Account, "verify_address", c.VerifyAddress, "tls", c.TLS)
	return b, nil
}
