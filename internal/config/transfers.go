package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// TransfersConfig makes the builtin backend a (hidden) primary: zone
// transfers out (AXFR/IXFR over TCP), NOTIFY to secondaries and a catalog
// zone (RFC 9432) listing every zone. Everything is closed unless allow
// names someone.
type TransfersConfig struct {
	// Allow lists who may transfer: CIDRs or plain addresses, and/or TSIG
	// key names (a request signed with that key, from anywhere). Empty:
	// transfers are refused to everyone.
	Allow []string `yaml:"allow"`
	// TSIGKeys are the keys secondaries sign with.
	TSIGKeys []TSIGKey `yaml:"tsig_keys"`
	// Notify lists secondaries (host or host:port, default port 53) sent a
	// NOTIFY when a zone changes.
	Notify []string `yaml:"notify"`
	// NotifyKey signs NOTIFYs with this key (a name in tsig_keys; empty:
	// unsigned).
	NotifyKey string `yaml:"notify_key"`
	// NotifyNS also notifies the addresses of the zone's own NS hosts that
	// the zone gives (in-zone glue).
	NotifyNS bool `yaml:"notify_ns"`
	// CatalogZone is the catalog's name, such as catalog.dadns.invalid
	// (empty: no catalog).
	CatalogZone string `yaml:"catalog_zone"`
	// CatalogGroups adds the RFC 9432 group property: the DirectAdmin
	// server that owns each zone, so a secondary can take one server's zones.
	CatalogGroups bool `yaml:"catalog_groups"`
	// TimeoutSeconds bounds one outgoing transfer; a slower client is cut off.
	TimeoutSeconds int `yaml:"timeout_seconds"`
	// MaxConcurrent bounds transfers served at once (more are refused).
	MaxConcurrent int `yaml:"max_concurrent"`
}

// TSIGKey is one shared secret (RFC 8945).
type TSIGKey struct {
	Name      string `yaml:"name"`
	Algorithm string `yaml:"algorithm"` // hmac-sha256 (default), hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1
	Secret    string `yaml:"secret" secret:"true"`
}

// TSIGAlgorithms are the algorithm names accepted, as BIND writes them.
var TSIGAlgorithms = []string{"hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1"}

// Enabled reports whether anyone may transfer.
func (t *TransfersConfig) Enabled() bool { return len(t.Allow) > 0 }

func (t *TransfersConfig) setDefaults() {
	if t.TimeoutSeconds == 0 {
		t.TimeoutSeconds = 300
	}
	if t.MaxConcurrent == 0 {
		t.MaxConcurrent = 16
	}
	for i := range t.TSIGKeys {
		if t.TSIGKeys[i].Algorithm == "" {
			t.TSIGKeys[i].Algorithm = "hmac-sha256"
		}
	}
}

func (t *TransfersConfig) validate(r *report) {
	t.setDefaults()
	keys := map[string]bool{}
	for i, k := range t.TSIGKeys {
		key := fmt.Sprintf("transfers.tsig_keys.%d", i)
		name := strings.ToLower(strings.TrimSuffix(k.Name, "."))
		switch {
		case name == "" || strings.ContainsAny(name, " \t\"'/\\;"):
			r.add(key+".name", "%q is not a key name; use a DNS-style name such as xfr-key", k.Name)
		case keys[name]:
			r.add(key+".name", "%q is listed twice; keep one", k.Name)
		}
		keys[name] = true
		if !slices.Contains(TSIGAlgorithms, strings.ToLower(k.Algorithm)) {
			r.add(key+".algorithm", "%q is not supported; use one of %s", k.Algorithm, strings.Join(TSIGAlgorithms, ", "))
		}
		if b, err := base64.StdEncoding.DecodeString(k.Secret); err != nil || len(b) < 16 {
			r.add(key+".secret", "is not a base64 secret of at least 16 bytes; make one with `tsig-keygen` or `openssl rand -base64 32`")
		}
	}
	for i, a := range t.Allow {
		key := fmt.Sprintf("transfers.allow.%d", i)
		if _, err := netip.ParsePrefix(a); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(a); err == nil {
			continue
		}
		if !keys[strings.ToLower(strings.TrimSuffix(a, "."))] {
			r.add(key, "%q is neither an address, a CIDR nor a key of transfers.tsig_keys", a)
		}
	}
	for i, n := range t.Notify {
		key := fmt.Sprintf("transfers.notify.%d", i)
		host := n
		if h, _, err := net.SplitHostPort(n); err == nil {
			host = h
		}
		if _, err := netip.ParseAddr(host); err != nil {
			r.add(key, "%q is not an address or address:port; NOTIFY goes to addresses, such as 192.0.2.53 or [2001:db8::53]:5353", n)
		}
	}
	if t.NotifyKey != "" && !keys[strings.ToLower(strings.TrimSuffix(t.NotifyKey, "."))] {
		r.add("transfers.notify_key", "%q is not a key of transfers.tsig_keys", t.NotifyKey)
	}
	if c := t.CatalogZone; c != "" {
		if strings.ContainsAny(c, " \t\"'/\\;") || strings.Contains(strings.Trim(c, "."), "..") || strings.Trim(c, ".") == "" {
			r.add("transfers.catalog_zone", "%q is not a zone name; use a name no real zone has, such as catalog.dadns.invalid", c)
		}
		if !t.Enabled() {
			r.add("transfers.catalog_zone", "a catalog is only useful to secondaries: set transfers.allow too")
		}
	}
	checkAtLeast(r, "transfers.timeout_seconds", t.TimeoutSeconds, 1)
	checkAtLeast(r, "transfers.max_concurrent", t.MaxConcurrent, 1)
}
