package config

import (
	"os"
	"testing"
)

// TestNSDKeys loads an nsd instance with directdnsonly's two keys only
// (defaults for the rest), then every key from the file and from DADNS_
// variables.
func TestNSDKeys(t *testing.T) {
	c := mustLoad(t, "dns: {backends: {nsd: {type: nsd, zones_dir: /etc/nsd/zones, nsd_conf: /etc/nsd/nsd.conf.d/zones.conf}}}")
	want(t, c.DNS.Backends["nsd"].NSD, NSDConfig{ZonesDir: "/etc/nsd/zones", NSDConf: "/etc/nsd/nsd.conf.d/zones.conf",
		NSDControl: "nsd-control", NSDCheckzone: "nsd-checkzone", FileMode: 0o644, DirMode: 0o755})

	c = mustLoad(t, `dns:
  backends:
    nsd:
      type: nsd
      zones_dir: /z
      nsd_conf: /c
      nsd_control: /usr/sbin/nsd-control
      nsd_control_conf: /etc/nsd/nsd.conf
      pattern: dadns
      mode: include
      verify_address: 127.0.0.1:5300
      verify_transfer: true
      nsd_checkzone: /usr/sbin/nsd-checkzone
      file_mode: "0640"
      dir_mode: "0750"
`, "DADNS_DNS_BACKENDS_NSD_PATTERN=other", "DADNS_DNS_BACKENDS_NSD_MODE=addzone",
		"DADNS_DNS_BACKENDS_NSD_NSD_CONTROL_CONF=/etc/nsd/alt.conf", "DADNS_DNS_BACKENDS_NSD_VERIFY_TRANSFER=false")
	want(t, c.DNS.Backends["nsd"].NSD, NSDConfig{ZonesDir: "/z", NSDConf: "/c", NSDControl: "/usr/sbin/nsd-control",
		NSDControlConf: "/etc/nsd/alt.conf", Pattern: "other", Mode: "addzone", VerifyAddress: "127.0.0.1:5300",
		NSDCheckzone: "/usr/sbin/nsd-checkzone", FileMode: 0o640, DirMode: os.FileMode(0o750)})
}

func TestNSDValidation(t *testing.T) {
	for _, tc := range []struct{ yaml, key, msg string }{
		{"{type: nsd, zones_dir: /z, nsd_conf: /c, mode: addzone}", "dns.backends.nsd.pattern", "is not set"},
		{"{type: nsd, zones_dir: /z, nsd_conf: /c, mode: static}", "dns.backends.nsd.mode", "not a mode"},
		{"{type: nsd, zones_dir: /z, nsd_conf: /c, pattern: 'a b'}", "dns.backends.nsd.pattern", "not a pattern"},
		{"{type: nsd, zones_dir: /z, nsd_conf: /c, verify_address: nope}", "dns.backends.nsd.verify_address", ""},
		{"{type: nsd, nsd_conf: /c}", "dns.backends.nsd.zones_dir", "is not set"},
	} {
		_, err := loadYAML(t, "dns: {backends: {nsd: "+tc.yaml+"}}")
		if _, ok := findProblem(problemsOf(t, err), tc.key, tc.msg); !ok {
			t.Errorf("%s: no problem about %s (%q): %v", tc.yaml, tc.key, tc.msg, err)
		}
	}
}
