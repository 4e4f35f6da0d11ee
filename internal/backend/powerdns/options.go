package powerdns

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dadns/dadns/internal/backend/mysqldb"
)

// Options configure one backend instance (one database read by PowerDNS).
type Options struct {
	Host     string // MySQL/MariaDB server name or address
	Port     int    // default 3306
	Database string
	Username string
	Password string

	// DSN, when set, is a go-sql-driver/mysql DSN used instead of the
	// connection fields above and the TLS fields below.
	DSN string

	TLS           bool   // connect with TLS
	TLSCA         string // PEM file of the CA that signed the server certificate ("" = system roots)
	TLSSkipVerify bool   // accept any server certificate

	// Account is the domains.account value marking dadns's zones; rows of
	// other accounts are never read as dadns's nor touched. Default "dadns".
	Account string

	// VerifyAddress, when set, is a PowerDNS server (host:port) reading
	// this database: Verify also asks it for the zone's SOA serial.
	VerifyAddress string
	// VerifyTimeout bounds how long Verify waits for that serial (the
	// database may be a replica behind, PowerDNS may cache). Default 5s.
	VerifyTimeout time.Duration

	PoolSize int           // open connections at most, default 4
	Timeout  time.Duration // dial, read and write timeout, default 10s

	// TxRows bounds the rows one transaction writes: a batch holding more
	// is split into several transactions (whole zones each). Default 20000.
	TxRows int

	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Port == 0 {
		o.Port = 3306
	}
	if o.Account == "" {
		o.Account = "dadns"
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = 5 * time.Second
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.TxRows <= 0 {
		o.TxRows = 20000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

func (o *Options) check() error {
	switch {
	case o.DSN != "":
	case o.Host == "":
		return errors.New("host is empty")
	case o.Database == "":
		return errors.New("database is empty")
	case o.Username == "":
		return errors.New("username is empty")
	}
	if len(o.Account) > 40 {
		return fmt.Errorf("account %q is longer than the 40 characters of domains.account", o.Account)
	}
	return nil
}

// driverConfig turns the options into the driver's configuration. Session
// settings make MariaDB refuse, rather than truncate, a value that does
// not fit a column.
func (o *Options) driverConfig() (*mysql.Config, error) {
	c := mysql.NewConfig()
	if o.DSN != "" {
		var err error
		if c, err = mysql.ParseDSN(o.DSN); err != nil {
			return nil, fmt.Errorf("dsn: %w", err)
		}
		if c.DBName == "" {
			return nil, errors.New("dsn names no database")
		}
	} else {
		c.User, c.Passwd, c.DBName = o.Username, o.Password, o.Database
		c.Net, c.Addr = "tcp", net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	}
	if c.Timeout == 0 {
		c.Timeout = o.Timeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = o.Timeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = o.Timeout
	}
	c.InterpolateParams = true // one round trip per multi-row statement
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if _, ok := c.Params["sql_mode"]; !ok {
		c.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
	}
	if !o.TLS || o.DSN != "" {
		return c, nil
	}
	t, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	c.TLS = t
	return c, nil
}

func (o *Options) tlsConfig() (*tls.Config, error) {
	return mysqldb.TLSConfig(o.Host, o.TLSCA, o.TLSSkipVerify)
}
