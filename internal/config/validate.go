package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

var (
	logLevels  = []string{"debug", "info", "warning", "error", "critical"}
	logFormats = []string{"text", "json"}
)

// Validate checks c for impossible values and returns an *Error listing all
// of them, or nil. Load already calls it; it is for configurations built in
// code.
func (c *Config) Validate() error {
	r := &report{origins: c.origins}
	c.validate(r)
	if len(r.problems) > 0 {
		return &Error{File: c.Source, Problems: r.sorted()}
	}
	return nil
}

func (c *Config) validate(r *report) {
	c.validateTop(r)
	c.App.validate(r)
	c.Limits.validate(r)
	c.validateBackends(r)
	c.Reconciliation.validate(r)
	c.PeerSync.validate(r)
	c.Transfers.validate(r)
}

func normalizeLevel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "warn" {
		return "warning"
	}
	return s
}

func (c *Config) validateTop(r *report) {
	if !slices.Contains(logLevels, normalizeLevel(c.LogLevel)) {
		r.add("log_level", "%q is not a log level; use one of %s", c.LogLevel, strings.Join(logLevels, ", "))
	}
	if !slices.Contains(logFormats, strings.ToLower(c.LogFormat)) {
		r.add("log_format", "%q is not a log format; use text or json", c.LogFormat)
	}
	if c.DataDir == "" {
		r.add("data_dir", "is empty; set the directory dadns keeps its state in, such as ./data")
	}
	checkAtLeast(r, "datastore.max_size_mb", c.Datastore.MaxSizeMB, 0)
	c.Datastore.validate(r)
}

func (a *AppConfig) validate(r *report) {
	if len(a.NodeID) > 100 || strings.ContainsAny(a.NodeID, "@ \t\r\n") {
		r.add("app.node_id", "%q is not a node name; use at most 100 characters without spaces or @, such as dns1", a.NodeID)
	}
	checkPort(r, "app.listen_port", a.ListenPort)
	if a.ListenAddress != "" && !validHost(a.ListenAddress) {
		r.add("app.listen_address", "%q is not an IP address or host name; write one without a port (the port is app.listen_port), or leave it empty for all interfaces", a.ListenAddress)
	}
	if a.SSLEnable && a.SSLCert == "" {
		r.add("app.ssl_cert", "ssl_enable is true but no certificate is set; set the path of the certificate (chain) file or disable ssl_enable")
	}
	if a.SSLEnable && a.SSLKey == "" {
		r.add("app.ssl_key", "ssl_enable is true but no private key is set; set the path of the key file or disable ssl_enable")
	}
	if a.AuthUsername == "" {
		r.add("app.auth_username", "is empty; set the user name DirectAdmin logs in with")
	}
	if a.MaxBodyBytes < 1 {
		r.add("app.max_body_bytes", "%d is too small; set the largest accepted request in bytes, such as 4194304", a.MaxBodyBytes)
	}
	checkAtLeast(r, "app.read_header_timeout_seconds", a.ReadHeaderTimeoutSeconds, 1)
	checkAtLeast(r, "app.read_timeout_seconds", a.ReadTimeoutSeconds, 1)
	if (a.AdminUsername == "") != (a.AdminPassword == "") {
		r.add("app.admin_username", "admin_username and admin_password go together; set both, or neither to use the DirectAdmin credentials")
	}
	for _, p := range a.TrustedProxies {
		if _, err := ParseProxy(p); err != nil {
			r.add("app.trusted_proxies", "%q is not an IP address or CIDR; write one such as 10.0.0.5 or 10.0.0.0/24", p)
		}
	}
	for _, host := range slices.Sorted(maps.Keys(a.OwnerAliases)) {
		if aliases := a.OwnerAliases[host]; host == "" || slices.Contains(aliases, "") {
			r.add("app.owner_aliases."+host, "host names and aliases may not be empty")
		}
	}
}

func (l *LimitsConfig) validate(r *report) {
	checkAtLeast(r, "limits.max_records_per_zone", l.MaxRecordsPerZone, 1)
	checkAtLeast(r, "limits.max_zones", l.MaxZones, 1)
}

func (rc *ReconciliationConfig) validate(r *report) {
	checkAtLeast(r, "reconciliation.interval_minutes", rc.IntervalMinutes, 1)
	checkAtLeast(r, "reconciliation.initial_delay_minutes", rc.InitialDelayMinutes, 0)
	checkAtLeast(r, "reconciliation.ipp", rc.IPP, 1)
	if !(rc.MaxDeleteFraction > 0 && rc.MaxDeleteFraction <= 1) {
		r.add("reconciliation.max_delete_fraction", "%v is outside (0, 1]; set the largest share of zones one run may delete, such as 0.1", rc.MaxDeleteFraction)
	}
	if rc.Enabled && len(rc.DirectAdminServers) == 0 {
		r.add("reconciliation.directadmin_servers", "reconciliation is enabled but no server is listed; add the DirectAdmin servers or disable it")
	}
	seen := map[string]bool{}
	for i, s := range rc.DirectAdminServers {
		key := fmt.Sprintf("reconciliation.directadmin_servers.%d", i)
		s.validate(r, key)
		if seen[strings.ToLower(s.Hostname)] && s.Hostname != "" {
			r.add(key+".hostname", "%q is listed twice; keep one entry", s.Hostname)
		}
		seen[strings.ToLower(s.Hostname)] = true
	}
}

func (s *DirectAdminServer) validate(r *report, key string) {
	if !validHost(s.Hostname) {
		r.add(key+".hostname", "%q is not a host name; write the server's name only, such as da1.example.com", s.Hostname)
	}
	checkPort(r, key+".port", s.Port)
	if s.Username == "" {
		r.add(key+".username", "is empty; set the DirectAdmin login")
	}
	if s.Password == "" {
		r.add(key+".password", "is empty; set the DirectAdmin password or login key")
	}
	switch s.SerialCheck {
	case "", SerialCheckDNS, SerialCheckHTTP:
	default:
		r.add(key+".serial_check", "%q is not a serial check; use dns (ask the server's DNS for each SOA, the default) or http (read every zone's text)", s.SerialCheck)
	}
	if s.DNSAddress != "" {
		checkHostPort(r, key+".dns_address", s.DNSAddress)
	}
}

func (p *PeerSyncConfig) validate(r *report) {
	checkAtLeast(r, "peer_sync.interval_minutes", p.IntervalMinutes, 1)
	for i, peer := range p.Peers {
		key := fmt.Sprintf("peer_sync.peers.%d.url", i)
		if u, err := url.Parse(peer.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.add(key, "%q is not an http(s) URL; write one such as http://ddo-2:2222", peer.URL)
		}
	}
}

func checkPort(r *report, key string, p int) {
	if p < 1 || p > 65535 {
		r.add(key, "%d is not a port; use a number from 1 to 65535", p)
	}
}

func checkAtLeast(r *report, key string, n, least int) {
	if n < least {
		r.add(key, "%d is too small; use %d or more", n, least)
	}
}

// checkHostPort checks a host:port address with a numeric port.
func checkHostPort(r *report, key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || validHost(host)) {
		if p, err := strconv.Atoi(port); err == nil && p >= 1 && p <= 65535 {
			return
		}
	}
	r.add(key, "%q is not a host:port address; write one such as 127.0.0.1:5353 or [::1]:5353", addr)
}

// validHost accepts an IP address or a DNS host name.
func validHost(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if len(s) > 253 || s == "" {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return false
		}
	}
	return true
}

func (d *DatastoreConfig) validate(r *report) {
	checkAtLeast(r, "datastore.claim_lease_seconds", d.ClaimLeaseSeconds, 5)
	switch t := strings.ToLower(d.Type); t {
	case "", "sqlite":
		return
	case "mysql":
	default:
		r.add("datastore.type", "%q is not a datastore; set sqlite (one node, the default) or mysql (MariaDB, MySQL or Galera, several nodes)", d.Type)
		return
	}
	if d.DSN != "" {
		return
	}
	for _, h := range strings.Split(d.Host, ",") {
		if host, _, err := net.SplitHostPort(strings.TrimSpace(h)); err == nil {
			h = host
		}
		if !validHost(strings.TrimSpace(h)) {
			r.add("datastore.host", "%q is not a host name or IP address; set the MySQL server, or several Galera nodes separated by commas, or set datastore.dsn", d.Host)
			break
		}
	}
	checkPort(r, "datastore.port", d.Port)
	required(r, "datastore.name", d.Name, "the database dadns keeps its state in")
	required(r, "datastore.user", d.User, "the MySQL user")
	if !d.TLS && (d.TLSCA != "" || d.TLSSkipVerify) {
		r.add("datastore.tls", "tls_ca or tls_skip_verify is set but tls is false; set tls: true or remove them")
	}
}
