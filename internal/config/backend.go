package config

import (
	"os"
	"slices"
)

// Backend types dadns knows. A type listed here may not be implemented by
// every build; the backend factory decides.
const (
	TypeBuiltin      = "builtin"
	TypeBind         = "bind"
	TypeCoreDNSMySQL = "coredns_mysql"
	TypeNSD          = "nsd"
	TypePowerDNS     = "powerdns"
	TypeKnot         = "knot"
)

// Backend is one dns.backends instance. Only the settings struct matching
// Type is meaningful; keys of other types are rejected when loading.
type Backend struct {
	Name    string `yaml:"-"`
	Type    string `yaml:"type"`
	Enabled bool   `yaml:"enabled"`

	Builtin      BuiltinConfig
	Bind         BindConfig
	CoreDNSMySQL CoreDNSMySQLConfig
	NSD          NSDConfig
	PowerDNS     PowerDNSConfig
	Knot         KnotConfig
}

// BuiltinConfig configures the in-process DNS server.
type BuiltinConfig struct {
	Listen string `yaml:"listen"` // host:port for UDP and TCP
	// RRL is response rate limiting of UDP answers (on by default;
	// builtin_internet.go).
	RRL RRLConfig `yaml:"rrl"`
	// Cookies answers DNS cookies (RFC 7873/9018; on by default).
	// CookieSecret is 32 hex digits shared by every node behind one
	// address (empty: random per process); CookieSecretPrevious is still
	// accepted while a new secret rolls out.
	// MinimalANY answers ANY over UDP with one RRset (RFC 8482; default
	// true); over TCP the answer stays complete.
	MinimalANY           bool   `yaml:"minimal_any"`
	Cookies              bool   `yaml:"cookies"`
	CookieSecret         string `yaml:"cookie_secret" secret:"true"`
	CookieSecretPrevious string `yaml:"cookie_secret_previous" secret:"true"`
	// TCP bounds TCP clients; Dnstap writes answered queries to a dnstap
	// collector (off by default); ZoneCounts counts answers per zone for
	// /status and the admin API (on by default). See builtin_telemetry.go.
	TCP        TCPConfig    `yaml:"tcp"`
	Dnstap     DnstapConfig `yaml:"dnstap"`
	ZoneCounts bool         `yaml:"zone_counts"`
	// CacheEntries bounds the answers kept ready to send, shared by all
	// the instance's zones (about 500 bytes each at most); 0 means the
	// server's default, 16 per zone served and at least 65,536.
	CacheEntries int `yaml:"cache_entries"`
	// AddressSockets binds, beside a wildcard listen address (0.0.0.0,
	// [::]), the UDP port on each of the host's addresses too, rescanned
	// every 30 s (default true; dnsserver's addrsockets.go).
	AddressSockets bool `yaml:"address_sockets"`
	// Transfers is the top-level transfers section, handed to every
	// builtin instance by the backend factory (not a key of its own).
	Transfers *TransfersConfig `yaml:"-"`
}

// BindConfig configures a BIND (named) instance fed with zone files.
type BindConfig struct {
	ZonesDir       string      `yaml:"zones_dir"`
	NamedConf      string      `yaml:"named_conf"` // include file dadns rewrites
	RndcPath       string      `yaml:"rndc_path"`
	RndcConf       string      `yaml:"rndc_conf"`
	RndcKey        string      `yaml:"rndc_key"` // path of the key file
	RndcServer     string      `yaml:"rndc_server"`
	RndcPort       int         `yaml:"rndc_port"` // 0: rndc's own default
	RndcExec       bool        `yaml:"rndc_exec"` // run rndc per command instead of speaking the control channel
	VerifyAddress  string      `yaml:"verify_address"`
	VerifyTransfer bool        `yaml:"verify_transfer"` // named allows AXFR to dadns: verify by content hash
	NamedCheckzone string      `yaml:"named_checkzone"`
	NamedCheckconf string      `yaml:"named_checkconf"` // checks a batch of zone files in one run
	FileMode       os.FileMode `yaml:"file_mode"`
	DirMode        os.FileMode `yaml:"dir_mode"`
	// CheckNames is written into every zone statement: "ignore" (default;
	// named then loads the owner names every other backend serves, such as
	// under_score or -leading-hyphen), "warn" or "fail" (named's own
	// default for primaries).
	CheckNames string `yaml:"check_names"`
	// MaxRecordsPerType and MaxTypesPerName are written into every zone
	// statement when named supports them (BIND 9.18.28+, whose default of
	// 100 refuses zones the other backends serve); 0 means no limit.
	MaxRecordsPerType int `yaml:"max_records_per_type"`
	MaxTypesPerName   int `yaml:"max_types_per_name"`
}

// CoreDNSMySQLConfig configures a MySQL database read by CoreDNS's mysql
// plugin.
type CoreDNSMySQLConfig struct {
	Host          string `yaml:"host"`
	Port          int    `yaml:"port"`
	Database      string `yaml:"database"`
	Username      string `yaml:"username"`
	Password      string `yaml:"password" secret:"true"`
	ZonesTable    string `yaml:"zones_table"`
	RecordsTable  string `yaml:"records_table"`
	TableName     string `yaml:"table_name" compat:"true"` // the Python version's name for records_table
	TLS           bool   `yaml:"tls"`
	TLSCA         string `yaml:"tls_ca"`
	TLSSkipVerify bool   `yaml:"tls_skip_verify"`
	PoolSize      int    `yaml:"pool_size"`
	TimeoutSecs   int    `yaml:"timeout_seconds"`
}

// NSDConfig configures an NSD instance fed with zone files; zones_dir and
// nsd_conf as in the Python version.
type NSDConfig struct {
	ZonesDir       string      `yaml:"zones_dir"`
	NSDConf        string      `yaml:"nsd_conf"` // file dadns rewrites: zone entries (include mode) or its list
	NSDControl     string      `yaml:"nsd_control"`
	NSDControlConf string      `yaml:"nsd_control_conf"` // nsd.conf that nsd-control -c reads
	Pattern        string      `yaml:"pattern"`          // nsd.conf pattern for addzone / include-pattern
	Mode           string      `yaml:"mode"`             // addzone or include; default addzone when pattern is set
	VerifyAddress  string      `yaml:"verify_address"`
	VerifyTransfer bool        `yaml:"verify_transfer"` // NSD allows AXFR to dadns: verify by content hash
	NSDCheckzone   string      `yaml:"nsd_checkzone"`
	FileMode       os.FileMode `yaml:"file_mode"`
	DirMode        os.FileMode `yaml:"dir_mode"`

	// NSDControlSocket is NSD's control-interface when it is a local
	// socket path: dadns speaks to it without running nsd-control.
	NSDControlSocket string `yaml:"nsd_control_socket"`
	// NSDControlExec runs nsd-control per command instead of speaking
	// NSD's remote control natively (TLS or socket, from nsd_control_conf).
	NSDControlExec bool `yaml:"nsd_control_exec"`
}

// PowerDNSConfig configures a MySQL/MariaDB database in PowerDNS's generic
// MySQL (gmysql) schema, read by PowerDNS Authoritative servers. dadns
// writes the rows itself, as for coredns_mysql: no PowerDNS API is used.
type PowerDNSConfig struct {
	Host          string `yaml:"host"`
	Port          int    `yaml:"port"`
	Database      string `yaml:"database"`
	Username      string `yaml:"username"`
	Password      string `yaml:"password" secret:"true"`
	DSN           string `yaml:"dsn" secret:"true"` // go-sql-driver DSN; replaces the connection keys above and tls*
	TLS           bool   `yaml:"tls"`
	TLSCA         string `yaml:"tls_ca"`
	TLSSkipVerify bool   `yaml:"tls_skip_verify"`
	Account       string `yaml:"account"`        // domains.account marking dadns's zones
	VerifyAddress string `yaml:"verify_address"` // a PowerDNS reading this database: SOA serial checked over DNS
	VerifySecs    int    `yaml:"verify_timeout_seconds"`
	PoolSize      int    `yaml:"pool_size"`
	TimeoutSecs   int    `yaml:"timeout_seconds"`
}

// KnotConfig configures a Knot DNS knotd fed with zone files and driven
// with knotc (see internal/backend/knot).
type KnotConfig struct {
	ZonesDir       string      `yaml:"zones_dir"`
	KnotcPath      string      `yaml:"knotc_path"`
	KnotSocket     string      `yaml:"knot_socket"` // knotc -s: knotd's control socket
	VerifyAddress  string      `yaml:"verify_address"`
	VerifyTransfer bool        `yaml:"verify_transfer"` // knotd allows AXFR to dadns: verify by content hash
	Template       string      `yaml:"template"`        // knotd template of dadns's zones; "" = default
	FileMode       os.FileMode `yaml:"file_mode"`
	DirMode        os.FileMode `yaml:"dir_mode"`
}

// backendKind ties a type name to its settings struct and defaults; adding a
// type is a struct, a Backend field and an entry here.
type backendKind struct {
	settings func(b *Backend) any // pointer to the type's settings struct
	defaults func(b *Backend)
}

var backendKinds = map[string]backendKind{
	TypeBuiltin: {
		settings: func(b *Backend) any { return &b.Builtin },
		defaults: func(b *Backend) {
			b.Builtin.Listen = "127.0.0.1:5353"
			b.Builtin.RRL = DefaultRRL()
			b.Builtin.Cookies = true
			b.Builtin.MinimalANY = true
			b.Builtin.AddressSockets = true
			b.Builtin.TCP, b.Builtin.Dnstap, b.Builtin.ZoneCounts = DefaultTCP(), DefaultDnstap(), true
		},
	},
	TypeBind: {
		settings: func(b *Backend) any { return &b.Bind },
		defaults: func(b *Backend) {
			b.Bind = BindConfig{RndcPath: "rndc", NamedCheckzone: "named-checkzone", NamedCheckconf: "named-checkconf",
				FileMode: 0o644, DirMode: 0o755, CheckNames: "ignore"}
		},
	},
	TypeCoreDNSMySQL: {
		settings: func(b *Backend) any { return &b.CoreDNSMySQL },
		defaults: func(b *Backend) {
			b.CoreDNSMySQL = CoreDNSMySQLConfig{Port: 3306, ZonesTable: "zones", RecordsTable: "records", PoolSize: 4, TimeoutSecs: 10}
		},
	},
	TypeNSD: {
		settings: func(b *Backend) any { return &b.NSD },
		defaults: func(b *Backend) {
			b.NSD = NSDConfig{NSDControl: "nsd-control", NSDCheckzone: "nsd-checkzone", FileMode: 0o644, DirMode: 0o755}
		},
	},
	TypePowerDNS: {
		settings: func(b *Backend) any { return &b.PowerDNS },
		defaults: func(b *Backend) {
			b.PowerDNS = PowerDNSConfig{Port: 3306, Account: "dadns", VerifySecs: 5, PoolSize: 4, TimeoutSecs: 10}
		},
	},
	TypeKnot: {
		settings: func(b *Backend) any { return &b.Knot },
		defaults: func(b *Backend) {
			b.Knot = KnotConfig{KnotcPath: "knotc", KnotSocket: "/run/knot/knot.sock", FileMode: 0o644, DirMode: 0o755}
		},
	},
}

// NewBackend returns an enabled instance of type typ with that type's
// defaults; an unknown type gets no settings.
func NewBackend(name, typ string) Backend {
	b := Backend{Name: name, Type: typ, Enabled: true}
	if k, ok := backendKinds[typ]; ok {
		k.defaults(&b)
	}
	return b
}

// BackendTypes returns the known backend type names, sorted.
func BackendTypes() []string {
	var out []string
	for t := range backendKinds {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// settings returns a pointer to b's type-specific settings, or nil when the
// type is unknown.
func (b *Backend) settings() any {
	if k, ok := backendKinds[b.Type]; ok {
		return k.settings(b)
	}
	return nil
}
