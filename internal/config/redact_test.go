package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fillSecrets sets every secret-tagged string under v to a distinct value
// and returns the key paths and values it set.
func fillSecrets(v reflect.Value, path string, got map[string]string) {
	t := v.Type()
	switch {
	case t == backendsType:
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for _, k := range v.MapKeys() {
				if !yield(k.String()) {
					return
				}
			}
		}) {
			b := v.MapIndex(reflect.ValueOf(name)).Interface().(Backend)
			fillSecrets(reflect.ValueOf(b.settings()).Elem(), join(path, name), got)
			v.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(b))
		}
	case t.Kind() == reflect.Struct:
		for _, f := range fieldsOf(t) {
			fv := v.Field(f.index)
			if f.secret {
				val := fmt.Sprintf("s3cr3t-%02d", len(got))
				fv.SetString(val)
				got[join(path, f.name)] = val
				continue
			}
			fillSecrets(fv, join(path, f.name), got)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		for i := range v.Len() {
			fillSecrets(v.Index(i), fmt.Sprintf("%s.%d", path, i), got)
		}
	}
}

func TestRedactedHidesEverySecret(t *testing.T) {
	c := Default()
	for _, typ := range BackendTypes() {
		c.DNS.Backends[typ] = NewBackend(typ, typ)
	}
	c.Reconciliation.DirectAdminServers = []DirectAdminServer{{Hostname: "da1.example.com"}}
	c.PeerSync.Peers = []Peer{{URL: "http://ddo-2:2222"}}
	secrets := map[string]string{}
	fillSecrets(reflect.ValueOf(c).Elem(), "", secrets)

	// Listed by hand so that a password field added without its secret tag
	// is noticed here.
	wantKeys := []string{
		"app.admin_password",
		"app.auth_password",
		"datastore.dsn",
		"datastore.pass",
		"dns.backends.builtin.cookie_secret",
		"dns.backends.builtin.cookie_secret_previous",
		"dns.backends.coredns_mysql.password",
		"dns.backends.powerdns.dsn",
		"dns.backends.powerdns.password",
		"peer_sync.auth_password",
		"peer_sync.peers.0.password",
		"reconciliation.directadmin_servers.0.password",
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range secrets {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, wantKeys) {
		t.Errorf("secret keys = %v, want %v", got, wantKeys)
	}

	out := c.Redacted()
	for key, val := range secrets {
		if strings.Contains(out, val) {
			t.Errorf("Redacted shows %s", key)
		}
	}
	if n := strings.Count(out, Mask); n != len(secrets) {
		t.Errorf("%d masks for %d secrets:\n%s", n, len(secrets), out)
	}
	for _, visible := range []string{"da1.example.com", "http://ddo-2:2222", "listen: 127.0.0.1:5353"} {
		if !strings.Contains(out, visible) {
			t.Errorf("Redacted hides %q, which is no secret", visible)
		}
	}
}

func TestRedactedKeepsEmptySecretsEmpty(t *testing.T) {
	out := Default().Redacted()
	if strings.Contains(out, Mask) || !strings.Contains(out, `auth_password: ""`) {
		t.Errorf("empty secrets must stay empty:\n%s", out)
	}
	if strings.Contains(out, "token_valid_for_days") {
		t.Errorf("unset Python-only keys shown:\n%s", out)
	}
}

// TestRedactedLoadsBack checks that check-config's output is itself a valid
// app.yml describing the same configuration.
func TestRedactedLoadsBack(t *testing.T) {
	inputs := map[string]string{
		"python example": readTestdata(t, "directdnsonly-app.yml"),
		"multi dc":       readTestdata(t, "directdnsonly-multi-dc.yml"),
		"defaults":       "",
		"every type": `
app: {owner_aliases: {da1.example.com: [da1.example.net]}}
dns:
  backends:
    b: {type: bind, zones_dir: /z, named_conf: /n, file_mode: "0640", rndc_port: 953}
    k: {type: knot, zones_dir: /k}
    p: {type: powerdns, host: db1, database: pdns, username: dadns, password: k, verify_address: "127.0.0.1:53"}
    n: {type: nsd, zones_dir: /z, nsd_conf: /c, enabled: false}
    s: {type: builtin, listen: "[::1]:5353"}
`,
	}
	for name, body := range inputs {
		t.Run(name, func(t *testing.T) {
			first := mustLoad(t, body+"\n").Redacted()
			second := mustLoad(t, first).Redacted()
			if dropFirstLine(first) != dropFirstLine(second) {
				t.Errorf("Redacted does not load back to itself:\n%s\n---\n%s", first, second)
			}
		})
	}
}

func dropFirstLine(s string) string {
	_, rest, _ := strings.Cut(s, "\n")
	return rest
}
