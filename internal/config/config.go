package config

import (
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
)

// Config is dadns's effective configuration. Field tags name the app.yml key;
// a secret tag marks values Redacted hides; a compat tag marks keys kept for
// the Python version's files, which Redacted shows only when set.
type Config struct {
	LogLevel  string `yaml:"log_level"`  // debug, info, warning, error or critical (lower-cased by Load)
	LogFormat string `yaml:"log_format"` // text or json
	Timezone  string `yaml:"timezone"`   // kept for the Python version's files; dadns logs in UTC
	// Environment is the Python version's CherryPy environment; accepted, unused.
	Environment string `yaml:"environment" compat:"true"`
	// DataDir holds dadns's state. When only the Python version's
	// queue_location is set, Load uses that directory.
	DataDir        string               `yaml:"data_dir"`
	QueueLocation  string               `yaml:"queue_location" compat:"true"`
	Datastore      DatastoreConfig      `yaml:"datastore"`
	App            AppConfig            `yaml:"app"`
	Limits         LimitsConfig         `yaml:"limits"`
	DNS            DNSConfig            `yaml:"dns"`
	Reconciliation ReconciliationConfig `yaml:"reconciliation"`
	PeerSync       PeerSyncConfig       `yaml:"peer_sync"`
	// Transfers makes the builtin backend a primary for secondaries.
	Transfers TransfersConfig `yaml:"transfers"`

	// Source is the file the configuration was read from; empty when none.
	Source string `yaml:"-"`

	origins map[string]Origin // key path → where its value came from
}

// DatastoreConfig is the datastore section: where dadns keeps its state.
// type sqlite (the default) is one embedded file; type mysql is a MariaDB,
// MySQL 8 or Galera database that several dadns nodes may share, with the
// Python version's keys (host, port, name, user, pass).
type DatastoreConfig struct {
	Type       string `yaml:"type"`        // sqlite (or empty) or mysql
	DBLocation string `yaml:"db_location"` // SQLite file; empty means <data_dir>/dadns.db
	// MaxSizeMB caps the database file; past it pushes are refused with
	// error=1 as on a full disk. 0 means no cap.
	MaxSizeMB int `yaml:"max_size_mb"`
	// Host is the MySQL server, or a comma-separated list of servers (Galera
	// nodes, each optionally host:port) tried in turn.
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 3306
	Name string `yaml:"name"` // database
	User string `yaml:"user"`
	Pass string `yaml:"pass" secret:"true"`
	// TLS, TLSCA and TLSSkipVerify secure the connection as for the
	// coredns_mysql backend.
	TLS           bool   `yaml:"tls"`
	TLSCA         string `yaml:"tls_ca"`
	TLSSkipVerify bool   `yaml:"tls_skip_verify"`
	// DSN, when set, is used as is (go-sql-driver/mysql syntax) instead of
	// the keys above.
	DSN string `yaml:"dsn" secret:"true"`
	// ClaimLeaseSeconds is how long a node may hold a shared backend's zone
	// before another node takes it over (a node that died mid-apply).
	ClaimLeaseSeconds int `yaml:"claim_lease_seconds"`
}

// IsMySQL reports whether the state lives in MySQL/MariaDB.
func (d DatastoreConfig) IsMySQL() bool { return strings.EqualFold(d.Type, "mysql") }

// AppConfig is the app section: the HTTP side DirectAdmin talks to.
type AppConfig struct {
	AuthUsername string `yaml:"auth_username"`
	// AuthPassword empty means the app generates one on first start.
	AuthPassword     string `yaml:"auth_password" secret:"true"`
	ListenPort       int    `yaml:"listen_port"`
	ListenAddress    string `yaml:"listen_address"` // empty: all interfaces
	SSLEnable        bool   `yaml:"ssl_enable"`
	SSLCert          string `yaml:"ssl_cert"`
	SSLKey           string `yaml:"ssl_key"`    // path of the private key file
	SSLBundle        string `yaml:"ssl_bundle"` // optional CA chain file
	ProxySupport     bool   `yaml:"proxy_support"`
	ProxySupportBase string `yaml:"proxy_support_base"`
	// NodeID names this dadns process among the nodes sharing a MySQL
	// datastore; empty means the host name.
	NodeID string `yaml:"node_id"`
	// CheckSubdomainOwner mirrors DirectAdmin's setting of the same name.
	CheckSubdomainOwner bool  `yaml:"check_subdomain_owner_in_cluster_domainowners"`
	MaxBodyBytes        int64 `yaml:"max_body_bytes"`
	// ReadHeaderTimeoutSeconds and ReadTimeoutSeconds bound how long a
	// client may take to send its headers, and its whole request: slow
	// clients cannot hold connections open.
	ReadHeaderTimeoutSeconds int `yaml:"read_header_timeout_seconds"`
	ReadTimeoutSeconds       int `yaml:"read_timeout_seconds"`
	// OwnerAliases maps a DirectAdmin hostname to other names it pushes as.
	OwnerAliases map[string][]string `yaml:"owner_aliases"`
	// AdminUsername/AdminPassword guard /status, /metrics and the admin
	// API; empty means the DirectAdmin credentials do.
	AdminUsername string `yaml:"admin_username"`
	AdminPassword string `yaml:"admin_password" secret:"true"`
	// HealthzPublic serves /healthz without authentication (load balancers).
	HealthzPublic bool `yaml:"healthz_public"`
	// UIEnabled serves the operator pages under /ui/ (behind the admin
	// credentials, and only when admin_username/admin_password are set).
	UIEnabled bool `yaml:"ui_enabled"`
	// TrustedProxies are the addresses (IPs or CIDRs) whose X-Forwarded-For
	// is believed when proxy_support is on.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// The Python version's keys below are accepted and unused.
	LogLevel          string `yaml:"log_level" compat:"true"`
	LogTo             string `yaml:"log_to" compat:"true"`
	TokenValidForDays int    `yaml:"token_valid_for_days" compat:"true"`
	QueueLocation     string `yaml:"queue_location" compat:"true"`
}

// LimitsConfig bounds what one DirectAdmin push may store.
type LimitsConfig struct {
	MaxRecordsPerZone int `yaml:"max_records_per_zone"`
	MaxZones          int `yaml:"max_zones"`
}

// DNSConfig is the dns section: the backend instances that serve the zones.
type DNSConfig struct {
	DefaultBackend string             `yaml:"default_backend"`
	Backends       map[string]Backend `yaml:"backends"`
}

// ReconciliationConfig drives the poller comparing DirectAdmin with the store.
type ReconciliationConfig struct {
	Enabled             bool    `yaml:"enabled"`
	DryRun              bool    `yaml:"dry_run"`
	IntervalMinutes     int     `yaml:"interval_minutes"`
	InitialDelayMinutes int     `yaml:"initial_delay_minutes"`
	VerifySSL           bool    `yaml:"verify_ssl"`
	IPP                 int     `yaml:"ipp"` // items per page when listing DirectAdmin's zones
	MaxDeleteFraction   float64 `yaml:"max_delete_fraction"`
	// DirectAdminServers are the servers whose zone lists are authoritative.
	DirectAdminServers []DirectAdminServer `yaml:"directadmin_servers"`
}

// DirectAdminServer is one DirectAdmin server the reconciler polls.
type DirectAdminServer struct {
	Hostname string   `yaml:"hostname"`
	Port     int      `yaml:"port"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password" secret:"true"`
	SSL      bool     `yaml:"ssl"`
	Aliases  []string `yaml:"aliases"` // other hostnames the server pushes as
	// SerialCheck is how a pass learns the serials of the zones the server
	// holds: "dns" (the default; "" means it) asks the server's DNS
	// (DNSAddress) for each zone's SOA and reads the text over HTTP only
	// where the serial differs or the answer is unusable; "http" reads
	// every zone's text.
	SerialCheck string `yaml:"serial_check"`
	// DNSAddress is the server's DNS (named on the DA box), host:port;
	// default the hostname on port 53.
	DNSAddress string `yaml:"dns_address"`
}

// The values of reconciliation.directadmin_servers[].serial_check.
const (
	SerialCheckDNS  = "dns"
	SerialCheckHTTP = "http"
)

func (s *DirectAdminServer) setDefaults() {
	s.Port = 2222
	s.SSL = true
}

// PeerSyncConfig is the Python version's peer sync section, kept as given.
type PeerSyncConfig struct {
	Enabled         bool   `yaml:"enabled"`
	IntervalMinutes int    `yaml:"interval_minutes"`
	AuthUsername    string `yaml:"auth_username"`
	AuthPassword    string `yaml:"auth_password" secret:"true"`
	Peers           []Peer `yaml:"peers"`
}

// Peer is another dadns or directdnsonly instance.
type Peer struct {
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
}

// Default returns the configuration used when no file or variable sets
// anything: state in ./data, HTTP on 2222, the builtin backend on
// 127.0.0.1:5353.
func Default() *Config {
	return &Config{
		LogLevel:  "info",
		LogFormat: "text",
		DataDir:   "./data",
		Datastore: DatastoreConfig{Type: "sqlite", Port: 3306, ClaimLeaseSeconds: 60},
		App: AppConfig{
			AuthUsername:             "directdnsonly",
			ListenPort:               2222,
			CheckSubdomainOwner:      true,
			UIEnabled:                true,
			MaxBodyBytes:             4 << 20,
			ReadHeaderTimeoutSeconds: 10,
			ReadTimeoutSeconds:       60,
			TrustedProxies:           []string{"127.0.0.0/8", "::1/128"},
		},
		Limits: LimitsConfig{MaxRecordsPerZone: 50000, MaxZones: 1000000},
		DNS: DNSConfig{Backends: map[string]Backend{
			TypeBuiltin: NewBackend(TypeBuiltin, TypeBuiltin),
		}},
		Reconciliation: ReconciliationConfig{
			IntervalMinutes:   60,
			VerifySSL:         true,
			IPP:               1000,
			MaxDeleteFraction: 0.10,
		},
		PeerSync:  PeerSyncConfig{IntervalMinutes: 15, AuthUsername: "peersync"},
		Transfers: defaultTransfers(),
	}
}

// DBPath returns the SQLite database file: datastore.db_location, or
// dadns.db in the data directory.
func (c *Config) DBPath() string {
	if c.Datastore.DBLocation != "" {
		return c.Datastore.DBLocation
	}
	return filepath.Join(c.DataDir, "dadns.db")
}

// EnabledBackends returns the enabled backend instances sorted by name.
func (c *Config) EnabledBackends() []Backend {
	var out []Backend
	for _, b := range c.DNS.Backends {
		if b.Enabled {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Backend) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SlogLevel returns log_level as a slog level; critical is above error.
func (c *Config) SlogLevel() slog.Level {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug
	case "warning", "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	case "critical":
		return slog.LevelError + 4
	}
	return slog.LevelInfo
}
