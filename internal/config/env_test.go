package config

import (
	"reflect"
	"slices"
	"testing"
)

const fileWithInstances = `
dns:
  backends:
    bind:
      type: bind
      enabled: false
      zones_dir: /etc/named/zones
      named_conf: /etc/named/dadns.conf
    core:
      type: coredns_mysql
      host: db0.example.com
      database: coredns
      username: coredns
    core_dc1:
      type: coredns_mysql
      host: db1.example.com
      database: coredns
      username: coredns
reconciliation:
  directadmin_servers:
    - hostname: da1.example.com
      username: admin
      password: file-secret
`

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   []string
		check func(t *testing.T, c *Config)
	}{
		{"string", "app: {auth_password: from-file}", []string{"DADNS_APP_AUTH_PASSWORD=from-env"}, func(t *testing.T, c *Config) {
			want(t, c.App.AuthPassword, "from-env")
		}},
		{"empty string clears", "app: {auth_password: from-file}", []string{"DADNS_APP_AUTH_PASSWORD="}, func(t *testing.T, c *Config) {
			want(t, c.App.AuthPassword, "")
		}},
		{"top-level key", "log_level: debug", []string{"DADNS_LOG_LEVEL=ERROR"}, func(t *testing.T, c *Config) {
			want(t, c.LogLevel, "error")
		}},
		{"mysql datastore", "datastore: {type: mysql, host: 'db1,db2:3307', name: dadns, user: dadns}",
			[]string{"DADNS_DATASTORE_PASS=from-env", "DADNS_APP_NODE_ID=dns2", "DADNS_DATASTORE_CLAIM_LEASE_SECONDS=30"},
			func(t *testing.T, c *Config) {
				want(t, c.Datastore.IsMySQL(), true)
				want(t, c.Datastore.Pass, "from-env")
				want(t, c.Datastore.Port, 3306)
				want(t, c.Datastore.ClaimLeaseSeconds, 30)
				want(t, c.App.NodeID, "dns2")
			}},
		{"int", "", []string{"DADNS_APP_LISTEN_PORT=8443"}, func(t *testing.T, c *Config) {
			want(t, c.App.ListenPort, 8443)
		}},
		{"int64", "", []string{"DADNS_APP_MAX_BODY_BYTES=1048576"}, func(t *testing.T, c *Config) {
			want(t, c.App.MaxBodyBytes, int64(1<<20))
		}},
		{"bool spellings", "", []string{"DADNS_APP_SSL_ENABLE=on", "DADNS_APP_SSL_CERT=/c.pem", "DADNS_APP_SSL_KEY=/k.pem", "DADNS_APP_PROXY_SUPPORT=1", "DADNS_RECONCILIATION_VERIFY_SSL=no"},
			func(t *testing.T, c *Config) {
				want(t, c.App.SSLEnable, true)
				want(t, c.App.ProxySupport, true)
				want(t, c.Reconciliation.VerifySSL, false)
				want(t, c.App.SSLKey, "/k.pem")
			}},
		{"float", "", []string{"DADNS_RECONCILIATION_MAX_DELETE_FRACTION=0.25"}, func(t *testing.T, c *Config) {
			want(t, c.Reconciliation.MaxDeleteFraction, 0.25)
		}},
		{"long key made of many words", "", []string{"DADNS_APP_CHECK_SUBDOMAIN_OWNER_IN_CLUSTER_DOMAINOWNERS=false"}, func(t *testing.T, c *Config) {
			want(t, c.App.CheckSubdomainOwner, false)
		}},
		{"keys sharing a prefix", "", []string{"DADNS_DATA_DIR=/srv/dadns", "DADNS_DATASTORE_DB_LOCATION=/srv/db.sqlite", "DADNS_DNS_DEFAULT_BACKEND=builtin"},
			func(t *testing.T, c *Config) {
				want(t, c.DataDir, "/srv/dadns")
				want(t, c.DBPath(), "/srv/db.sqlite")
				want(t, c.DNS.DefaultBackend, "builtin")
			}},
		{"python-only key", "", []string{"DADNS_QUEUE_LOCATION=/q", "DADNS_APP_TOKEN_VALID_FOR_DAYS=7"}, func(t *testing.T, c *Config) {
			want(t, c.DataDir, "/q")
			want(t, c.App.TokenValidForDays, 7)
		}},
		{"backend instance from the file", fileWithInstances, []string{"DADNS_DNS_BACKENDS_BIND_ENABLED=true", "DADNS_DNS_BACKENDS_BIND_ZONES_DIR=/z"},
			func(t *testing.T, c *Config) {
				want(t, c.DNS.Backends["bind"].Enabled, true)
				want(t, c.DNS.Backends["bind"].Bind.ZonesDir, "/z")
				want(t, c.DNS.Backends["bind"].Bind.NamedConf, "/etc/named/dadns.conf")
			}},
		{"longest instance name wins", fileWithInstances, []string{"DADNS_DNS_BACKENDS_CORE_DC1_PASSWORD=s1", "DADNS_DNS_BACKENDS_CORE_PASSWORD=s0"},
			func(t *testing.T, c *Config) {
				want(t, c.DNS.Backends["core_dc1"].CoreDNSMySQL.Password, "s1")
				want(t, c.DNS.Backends["core"].CoreDNSMySQL.Password, "s0")
			}},
		{"multi-word setting of an instance", fileWithInstances, []string{"DADNS_DNS_BACKENDS_CORE_ZONES_TABLE=dns_zones", "DADNS_DNS_BACKENDS_CORE_DC1_TLS_SKIP_VERIFY=true", "DADNS_DNS_BACKENDS_CORE_DC1_TLS=true"},
			func(t *testing.T, c *Config) {
				want(t, c.DNS.Backends["core"].CoreDNSMySQL.ZonesTable, "dns_zones")
				want(t, c.DNS.Backends["core_dc1"].CoreDNSMySQL.TLSSkipVerify, true)
			}},
		{"new instance via _TYPE next to the file's", fileWithInstances, []string{
			"DADNS_DNS_BACKENDS_DC2_TYPE=coredns_mysql", "DADNS_DNS_BACKENDS_DC2_HOST=10.0.1.29",
			"DADNS_DNS_BACKENDS_DC2_DATABASE=coredns", "DADNS_DNS_BACKENDS_DC2_USERNAME=coredns", "DADNS_DNS_BACKENDS_DC2_PASSWORD=p2"},
			func(t *testing.T, c *Config) {
				dc2 := c.DNS.Backends["dc2"]
				want(t, dc2.Type, TypeCoreDNSMySQL)
				want(t, dc2.Enabled, true)
				want(t, dc2.CoreDNSMySQL.Host, "10.0.1.29")
				want(t, dc2.CoreDNSMySQL.Port, 3306)
				want(t, dc2.CoreDNSMySQL.Password, "p2")
				want(t, enabledNames(c), []string{"core", "core_dc1", "dc2"})
			}},
		{"new instance with an underscore name", "", []string{"DADNS_DNS_BACKENDS_NS_EDGE_TYPE=builtin", "DADNS_DNS_BACKENDS_NS_EDGE_LISTEN=127.0.0.1:5400"},
			func(t *testing.T, c *Config) {
				want(t, c.DNS.Backends["ns_edge"].Builtin.Listen, "127.0.0.1:5400")
				want(t, enabledNames(c), []string{"ns_edge"})
			}},
		{"env-only instance replaces the default set", "", []string{"DADNS_DNS_BACKENDS_NSD_TYPE=nsd", "DADNS_DNS_BACKENDS_NSD_ZONES_DIR=/etc/nsd/zones", "DADNS_DNS_BACKENDS_NSD_NSD_CONF=/etc/nsd/zones.conf"},
			func(t *testing.T, c *Config) {
				want(t, enabledNames(c), []string{"nsd"})
				want(t, c.DNS.Backends["nsd"].NSD.NSDConf, "/etc/nsd/zones.conf")
			}},
		{"default instance adjusted", "", []string{"DADNS_DNS_BACKENDS_BUILTIN_LISTEN=0.0.0.0:53"}, func(t *testing.T, c *Config) {
			want(t, enabledNames(c), []string{"builtin"})
			want(t, c.DNS.Backends["builtin"].Builtin.Listen, "0.0.0.0:53")
		}},
		{"type of a file instance changed", "dns: {backends: {edge: {type: bind, zones_dir: /z}}}", []string{"DADNS_DNS_BACKENDS_EDGE_TYPE=nsd", "DADNS_DNS_BACKENDS_EDGE_NSD_CONF=/nsd.conf"},
			func(t *testing.T, c *Config) {
				want(t, c.DNS.Backends["edge"].Type, TypeNSD)
				want(t, c.DNS.Backends["edge"].NSD.ZonesDir, "/z")
			}},
		{"list entry from the file", fileWithInstances, []string{"DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_0_PASSWORD=env-secret", "DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_0_ALIASES=da1.example.net, da1.example.org"},
			func(t *testing.T, c *Config) {
				s := c.Reconciliation.DirectAdminServers[0]
				want(t, s.Password, "env-secret")
				want(t, s.Hostname, "da1.example.com")
				want(t, s.Aliases, []string{"da1.example.net", "da1.example.org"})
			}},
		{"list entry added", fileWithInstances, []string{"DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_1_HOSTNAME=da2.example.com", "DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_1_USERNAME=admin", "DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_1_PASSWORD=x"},
			func(t *testing.T, c *Config) {
				ss := c.Reconciliation.DirectAdminServers
				want(t, len(ss), 2)
				want(t, ss[1].Hostname, "da2.example.com")
				want(t, ss[1].Port, 2222)
				want(t, ss[1].SSL, true)
			}},
		{"list without a file", "", []string{"DADNS_PEER_SYNC_PEERS_0_URL=http://ddo-2:2222", "DADNS_PEER_SYNC_PEERS_0_PASSWORD=pw", "DADNS_PEER_SYNC_ENABLED=true"},
			func(t *testing.T, c *Config) {
				want(t, c.PeerSync.Peers, []Peer{{URL: "http://ddo-2:2222", Password: "pw"}})
			}},
		{"other variables ignored", "", []string{"HOME=/root", "PATH=/bin", "dadns_log_level=debug", "XDADNS_LOG_LEVEL=debug"}, func(t *testing.T, c *Config) {
			want(t, c.LogLevel, "info")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustLoad(t, tt.file+"\n", tt.env...))
		})
	}
}

func TestEnvOverridesWithoutFile(t *testing.T) {
	c, err := loadEnvOnly("DADNS_APP_AUTH_PASSWORD=pw", "DADNS_APP_LISTEN_PORT=2300")
	if err != nil {
		t.Fatal(err)
	}
	want(t, c.App.AuthPassword, "pw")
	want(t, c.App.ListenPort, 2300)
	want(t, c.Source, "")
}

func enabledNames(c *Config) []string {
	var out []string
	for _, b := range c.EnabledBackends() {
		out = append(out, b.Name)
	}
	return slices.Clip(out)
}

func want[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}
