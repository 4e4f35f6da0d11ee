package mysql

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Keys are the datastore settings of app.yml (directdnsonly's key names).
type Keys struct {
	Host          string // one host, or several separated by commas (host or host:port each)
	Port          int    // default port for hosts without one; 0 means 3306
	Name          string // database
	User, Pass    string
	TLS           bool
	TLSCA         string // PEM file; "" means the system roots
	TLSSkipVerify bool
}

// Config turns k into a driver configuration. Several hosts use the
// failover network (see FailoverNet).
func (k Keys) Config() (*mysql.Config, error) {
	if k.Name == "" {
		return nil, errors.New("no database name")
	}
	port := k.Port
	if port == 0 {
		port = 3306
	}
	var addrs []string
	for _, h := range strings.Split(k.Host, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, strconv.Itoa(port))
		}
		addrs = append(addrs, h)
	}
	if len(addrs) == 0 {
		return nil, errors.New("no host")
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.DBName = k.User, k.Pass, k.Name
	c.Net, c.Addr = "tcp", addrs[0]
	if len(addrs) > 1 {
		c.Net, c.Addr = FailoverNet, strings.Join(addrs, ",")
	}
	c.Timeout = 5 * time.Second
	if k.TLS {
		t, err := k.tlsConfig(addrs)
		if err != nil {
			return nil, err
		}
		c.TLS = t
	}
	return c, nil
}

// tlsConfig verifies the server against TLSCA (or the system roots). With
// several hosts the certificate must name the one connected to.
func (k Keys) tlsConfig(addrs []string) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: k.TLSSkipVerify}
	if len(addrs) == 1 {
		t.ServerName, _, _ = net.SplitHostPort(addrs[0])
	}
	if k.TLSCA == "" {
		return t, nil
	}
	pem, err := os.ReadFile(k.TLSCA)
	if err != nil {
		return nil, fmt.Errorf("tls_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls_ca %s: no PEM certificate in the file", k.TLSCA)
	}
	t.RootCAs = pool
	return t, nil
}
