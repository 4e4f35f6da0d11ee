package config

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// settingsValidator is implemented by each backend type's settings; key is
// the instance's key path.
type settingsValidator interface {
	validate(r *report, key string)
}

// sqlIdentRE keeps table names safe to put in SQL text.
var sqlIdentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func (c *Config) validateBackends(r *report) {
	if d := c.DNS.DefaultBackend; d != "" {
		if _, ok := c.DNS.Backends[d]; !ok {
			names := slices.Sorted(maps.Keys(c.DNS.Backends))
			r.add("dns.default_backend", "%q is not a defined backend instance; use one of: %s", d, strings.Join(names, ", "))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.DNS.Backends)) {
		b := c.DNS.Backends[name]
		key := "dns.backends." + name
		if !instanceNameRE.MatchString(name) {
			r.add(key, "instance name %q may only use a-z, 0-9 and _; rename it", name)
		}
		if v, ok := b.settings().(settingsValidator); ok {
			v.validate(r, key)
		} else {
			r.add(key+".type", "unknown backend type %q; use one of %s", b.Type, strings.Join(BackendTypes(), ", "))
		}
	}
}

func (s *BuiltinConfig) validate(r *report, key string) {
	checkHostPort(r, key+".listen", s.Listen)
	s.RRL.validate(r, key+".rrl")
	checkCookieSecret(r, key+".cookie_secret", s.CookieSecret)
	checkCookieSecret(r, key+".cookie_secret_previous", s.CookieSecretPrevious)
	s.TCP.validate(r, key+".tcp")
	s.Dnstap.validate(r, key+".dnstap")
	if s.CacheEntries != 0 {
		checkRange(r, key+".cache_entries", s.CacheEntries, 1024, 1<<24)
	}
}

func (s *BindConfig) validate(r *report, key string) {
	required(r, key+".zones_dir", s.ZonesDir, "the directory dadns writes zone files to")
	required(r, key+".named_conf", s.NamedConf, "the file dadns writes zone statements to, included from named.conf")
	required(r, key+".rndc_path", s.RndcPath, "the rndc command")
	required(r, key+".named_checkzone", s.NamedCheckzone, "the named-checkzone command")
	required(r, key+".named_checkconf", s.NamedCheckconf, "the named-checkconf command")
	if s.RndcPort != 0 {
		checkPort(r, key+".rndc_port", s.RndcPort)
	}
	if s.RndcServer != "" && !validHost(s.RndcServer) {
		r.add(key+".rndc_server", "%q is not an IP address or host name", s.RndcServer)
	}
	if s.VerifyAddress != "" {
		checkHostPort(r, key+".verify_address", s.VerifyAddress)
	}
	checkMode(r, key+".file_mode", s.FileMode)
	checkMode(r, key+".dir_mode", s.DirMode)
	if !slices.Contains([]string{"ignore", "warn", "fail"}, s.CheckNames) {
		r.add(key+".check_names", "%q is not a check-names mode; use ignore (named loads every name the other backends serve), warn or fail", s.CheckNames)
	}
	checkAtLeast(r, key+".max_records_per_type", s.MaxRecordsPerType, 0)
	checkAtLeast(r, key+".max_types_per_name", s.MaxTypesPerName, 0)
}

func (s *CoreDNSMySQLConfig) validate(r *report, key string) {
	if !validHost(s.Host) {
		r.add(key+".host", "%q is not a host name or IP address; set the MySQL server", s.Host)
	}
	checkPort(r, key+".port", s.Port)
	required(r, key+".database", s.Database, "the database CoreDNS reads")
	required(r, key+".username", s.Username, "the MySQL user")
	checkTable(r, key+".zones_table", s.ZonesTable)
	checkTable(r, key+".records_table", s.RecordsTable)
	checkAtLeast(r, key+".pool_size", s.PoolSize, 1)
	checkAtLeast(r, key+".timeout_seconds", s.TimeoutSecs, 1)
	if !s.TLS && (s.TLSCA != "" || s.TLSSkipVerify) {
		r.add(key+".tls", "tls_ca or tls_skip_verify is set but tls is false; set tls: true or remove them")
	}
}

func (s *NSDConfig) validate(r *report, key string) {
	required(r, key+".zones_dir", s.ZonesDir, "the directory dadns writes zone files to")
	required(r, key+".nsd_conf", s.NSDConf, "the file dadns writes zone entries to, included from nsd.conf")
	required(r, key+".nsd_control", s.NSDControl, "the nsd-control command")
	switch s.Mode {
	case "", "include":
	case "addzone":
		required(r, key+".pattern", s.Pattern, "the nsd.conf pattern zones are added with (nsd-control addzone NAME PATTERN)")
	default:
		r.add(key+".mode", "%q is not a mode; use addzone or include (default: addzone when pattern is set)", s.Mode)
	}
	if s.Pattern != "" && !nsdPatternRE.MatchString(s.Pattern) {
		r.add(key+".pattern", "%q is not a pattern name; use letters, digits, '-', '_' and '.'", s.Pattern)
	}
	if s.VerifyAddress != "" {
		checkHostPort(r, key+".verify_address", s.VerifyAddress)
	}
	checkMode(r, key+".file_mode", s.FileMode)
	checkMode(r, key+".dir_mode", s.DirMode)
}

// nsdPatternRE keeps a pattern name safe on nsd-control's command line and
// in nsd.conf.
var nsdPatternRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func (s *PowerDNSConfig) validate(r *report, key string) {
	if s.DSN != "" {
		if s.Host != "" || s.Database != "" || s.Username != "" || s.Password != "" || s.TLS {
			r.add(key+".dsn", "is set together with host, database, username, password or tls; use either dsn or those keys")
		}
	} else {
		if !validHost(s.Host) {
			r.add(key+".host", "%q is not a host name or IP address; set the MySQL server PowerDNS reads (or dsn)", s.Host)
		}
		checkPort(r, key+".port", s.Port)
		required(r, key+".database", s.Database, "the database PowerDNS reads (gmysql-dbname)")
		required(r, key+".username", s.Username, "the MySQL user dadns writes as")
	}
	if !sqlIdentRE.MatchString(s.Account) || len(s.Account) > 40 {
		r.add(key+".account", "%q is not usable; use up to 40 letters, digits and _ (default dadns)", s.Account)
	}
	if s.VerifyAddress != "" {
		checkHostPort(r, key+".verify_address", s.VerifyAddress)
	}
	checkAtLeast(r, key+".verify_timeout_seconds", s.VerifySecs, 1)
	checkAtLeast(r, key+".pool_size", s.PoolSize, 1)
	checkAtLeast(r, key+".timeout_seconds", s.TimeoutSecs, 1)
	if !s.TLS && (s.TLSCA != "" || s.TLSSkipVerify) {
		r.add(key+".tls", "tls_ca or tls_skip_verify is set but tls is false; set tls: true or remove them")
	}
}

func (s *KnotConfig) validate(r *report, key string) {
	required(r, key+".zones_dir", s.ZonesDir, "the directory dadns writes zone files to")
	required(r, key+".knotc_path", s.KnotcPath, "the knotc command")
	required(r, key+".knot_socket", s.KnotSocket, "knotd's control socket, such as /run/knot/knot.sock")
	if s.VerifyAddress != "" {
		checkHostPort(r, key+".verify_address", s.VerifyAddress)
	}
	if s.Template != "" && !knotTemplateRE.MatchString(s.Template) {
		r.add(key+".template", "%q is not a knotd template id; use letters, digits, - and _", s.Template)
	}
	checkMode(r, key+".file_mode", s.FileMode)
	checkMode(r, key+".dir_mode", s.DirMode)
}

// knotTemplateRE is a knotd template id dadns can pass to knotc.
var knotTemplateRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkTable(r *report, key, name string) {
	if !sqlIdentRE.MatchString(name) {
		r.add(key, "%q is not a table name; use letters, digits and _ only", name)
	}
}

func required(r *report, key, value, what string) {
	if value == "" {
		r.add(key, "is not set; set it to %s", what)
	}
}

func checkMode(r *report, key string, m os.FileMode) {
	if m == 0 || m&^0o777 != 0 {
		r.add(key, "%#o is not a usable permission; write octal digits such as \"0644\"", uint32(m))
	}
}
