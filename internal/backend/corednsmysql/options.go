package corednsmysql

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

// Options configure one backend instance (one database).
type Options struct {
	Host     string // MySQL/MariaDB server name or address
	Port     int    // default 3306
	Database string
	Username string
	Password string

	ZonesTable   string // default "zones"
	RecordsTable string // default "records"

	TLS           bool   // connect with TLS
	TLSCA         string // PEM file of the CA that signed the server certificate ("" = system roots)
	TLSSkipVerify bool   // accept any server certificate

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
	if o.ZonesTable == "" {
		o.ZonesTable = "zones"
	}
	if o.RecordsTable == "" {
		o.RecordsTable = "records"
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
	case o.Host == "":
		return errors.New("host is empty")
	case o.Database == "":
		return errors.New("database is empty")
	case o.Username == "":
		return errors.New("username is empty")
	case !plainIdent(o.ZonesTable):
		return fmt.Errorf("zones_table %q is not a plain table name", o.ZonesTable)
	case !plainIdent(o.RecordsTable):
		return fmt.Errorf("records_table %q is not a plain table name", o.RecordsTable)
	case o.ZonesTable == o.RecordsTable:
		return errors.New("zones_table and records_table are the same table")
	}
	return nil
}

// driverConfig turns the options into the driver's configuration. Session
// settings make MariaDB refuse, rather than truncate, a value that does
// not fit a column.
func (o *Options) driverConfig() (*mysql.Config, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.DBName = o.Username, o.Password, o.Database
	c.Net, c.Addr = "tcp", net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	c.Timeout, c.ReadTimeout, c.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	c.InterpolateParams = true // one round trip per multi-row statement
	c.Params = map[string]string{"sql_mode": "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"}
	if !o.TLS {
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

// plainIdent reports a table name that needs no quoting beyond backticks:
// letters, digits, '_' and '$', at most 64 bytes.
func plainIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$') {
			return false
		}
	}
	return true
}
