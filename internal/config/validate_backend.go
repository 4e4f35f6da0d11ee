package config

import (
	"maps"
	"net/url"
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
	if s.VerifyAddress != "" {
		checkHostPort(r, key+".verify_address", s.VerifyAddress)
	}
}

func (s *PowerDNSConfig) validate(r *report, key string) {
	if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.add(key+".api_url", "%q is not an http(s) URL; set the PowerDNS API address, such as http://127.0.0.1:8081", s.APIURL)
	}
	required(r, key+".api_key", s.APIKey, "the PowerDNS API key")
	required(r, key+".server_id", s.ServerID, "the PowerDNS server id, usually localhost")
}

func (s *KnotConfig) validate(r *report, key string) {
	required(r, key+".zones_dir", s.ZonesDir, "the directory dadns writes zone files to")
	required(r, key+".knotc_path", s.KnotcPath, "the knotc command")
	if s.VerifyAddress != "" {
		checkHostPort(r, key+".verify_address", s.VerifyAddress)
	}
}

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
